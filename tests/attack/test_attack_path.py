"""The joined path (posture.attack.path): network hops up to the host, the replies left out, a
port hop in front of the host's interface, then the identity hops; each hop says its layer."""

from __future__ import annotations

from posture.attack.path import joined_hops

IDENTITY = [{"kind": "role", "id": "web"}, {"kind": "", "id": "administrator"}]


def _kinds(hops: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(h["kind"], h["layer"]) for h in hops]


def test_port_goes_in_front_of_the_interface_and_replies_are_dropped() -> None:
    network = [
        {"kind": "internet", "id": "11.0.0.0"},
        {"kind": "network-acl (return traffic)", "id": "acl-1"},
        {"kind": "security-group", "id": "sg-1"},
        {"kind": "interface", "id": "eni-1"},
        {"kind": "asset", "id": "i-1"},
        {"kind": "network-acl (return traffic)", "id": "acl-1"},
    ]
    assert _kinds(joined_hops(network, "tcp/443", IDENTITY)) == [
        ("internet", "network"), ("security-group", "network"), ("port", "network"),
        ("interface", "network"), ("asset", "network"), ("role", "identity"),
        ("", "identity"),
    ]


def test_port_goes_in_front_of_the_host_without_an_interface_hop() -> None:
    network = [{"kind": "internet", "id": "x"}, {"kind": "external IP", "id": "34.1.2.3"},
               {"kind": "Instance", "id": "vm"}]
    hops = joined_hops(network, "tcp/22", IDENTITY)
    assert [h["kind"] for h in hops][:4] == ["internet", "external IP", "port", "Instance"]


def test_a_path_without_a_host_hop_is_kept_whole() -> None:
    network = [{"kind": "internet", "id": "x"}, {"kind": "load-balancer", "id": "lb"}]
    assert [h["kind"] for h in joined_hops(network, "tcp/22", [])] == ["internet", "load-balancer"]
