"""AMI collector against the moto server: the images instances run, with their instances, and
the account's own images in use or not (public or private); an image built from an instance and
tagged as patched, a deregistered image (kept, ``found`` false, also when it is the only one
asked and DescribeImages fails the whole call), terminated instances ignored, a refused
DescribeImages, and a refused listing of the own images that leaves the images in use."""

from __future__ import annotations

from typing import Any

from support.aws import ACCOUNT, client
from support.collect import by_uid, error_keys, scope
from support.faults import deny

from posture.collectors.aws import ami
from posture.collectors.aws.base import RegionScope
from posture.values import parse_time

LINUX, WINDOWS = "ami-1e749f67", "ami-12c6146b"  # in moto's bundled catalogue
UID = f"arn:aws:ec2:{{region}}:{ACCOUNT}:image/{{image}}"


def _run(ec2: Any, image: str) -> str:
    return str(ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
               ["InstanceId"])


def test_images_in_use(moto_endpoint: str) -> None:
    ec2 = client("ec2", moto_endpoint)
    web = _run(ec2, LINUX)
    built = ec2.create_image(InstanceId=web, Name="golden-2025-06-patched", TagSpecifications=[
        {"ResourceType": "image", "Tags": [{"Key": "Patched", "Value": "true"}]}])["ImageId"]
    app = _run(ec2, built)
    gone = ec2.create_image(InstanceId=web, Name="retired")["ImageId"]
    orphan = _run(ec2, gone)
    ec2.deregister_image(ImageId=gone)
    ec2.terminate_instances(InstanceIds=[_run(ec2, WINDOWS)])

    sc = scope(moto_endpoint, region="us-east-1")
    images = by_uid(ami.collect(sc))

    assert sc.errors == []
    assert set(images) == {UID.format(region="us-east-1", image=i) for i in (LINUX, built, gone)}
    golden = images[UID.format(region="us-east-1", image=built)]
    assert (golden.type, golden.name, golden.tags) == (ami.IMAGE, "golden-2025-06-patched",
                                                       {"Patched": "true"})
    assert {k: golden.attrs[k] for k in ("image_id", "found", "owner_id", "state",
                                         "instance_ids")} == {
        "image_id": built, "found": True, "owner_id": ACCOUNT, "state": "available",
        "instance_ids": [app]}
    assert parse_time(golden.attrs["creation_date"]) is not None
    assert golden.attrs["creation_date"].endswith("+00:00")
    linux = images[UID.format(region="us-east-1", image=LINUX)].attrs
    assert (linux["owner_alias"], linux["instance_ids"]) == ("amazon", [web])
    retired = images[UID.format(region="us-east-1", image=gone)].attrs
    assert (retired["found"], retired["creation_date"], retired["instance_ids"]) == (
        False, None, [orphan])


def test_a_call_failed_by_one_unknown_id_is_asked_one_by_one(moto_endpoint: str,
                                                              factory: Any) -> None:
    ec2 = client("ec2", moto_endpoint, region="eu-west-1")
    builder = _run(ec2, WINDOWS)
    gone = ec2.create_image(InstanceId=builder, Name="retired")["ImageId"]
    orphan = _run(ec2, gone)
    ec2.deregister_image(ImageId=gone)
    # AWS fails the whole DescribeImages when one id is unknown (moto leaves it out instead)
    asked: list[list[str]] = []
    factory.client("ec2", "eu-west-1").meta.events.register(
        "before-call.ec2.DescribeImages",
        lambda params, **_: asked.append(sorted(v for k, v in params["body"].items()
                                                if k.startswith("ImageId."))))
    deny(factory, "ec2", "DescribeImages", region="eu-west-1", code="InvalidAMIID.NotFound",
         when={"ImageId.2": max(WINDOWS, gone)})

    sc = RegionScope(account=ACCOUNT, region="eu-west-1", clients=factory)
    images = by_uid(ami.collect(sc))
    assert sc.errors == []
    first, second = sorted([WINDOWS, gone])
    assert asked == [[first, second], [first], [second], []]  # []: the own images' listing
    found = {a.attrs["image_id"]: (a.attrs["found"], a.attrs["instance_ids"])
             for a in images.values()}
    assert found == {WINDOWS: (True, [builder]), gone: (False, [orphan])}


def test_refused_describe_images_is_recorded(moto_endpoint: str, factory: Any) -> None:
    _run(client("ec2", moto_endpoint), LINUX)
    deny(factory, "ec2", "DescribeImages", code="UnauthorizedOperation")
    sc = RegionScope(account=ACCOUNT, region="us-east-1", clients=factory)
    assert ami.collect(sc) == []
    assert error_keys(sc.errors) == {
        ("us-east-1", "ec2", "DescribeImages", "UnauthorizedOperation", types, None)
        for types in ((ami.IMAGE,), (f"{ami.IMAGE}#owned",))}


def _own_images(ec2: Any) -> dict[str, str]:
    """An instance from Amazon's (public) image, an own image it runs, and two own images nobody
    runs: one shared publicly, one private."""
    builder = _run(ec2, LINUX)
    ids = {name: ec2.create_image(InstanceId=builder, Name=name)["ImageId"]
           for name in ("golden", "shared", "spare")}
    ec2.modify_image_attribute(ImageId=ids["shared"], LaunchPermission={"Add": [{"Group": "all"}]})
    ids["user"] = _run(ec2, ids["golden"])
    return {**ids, "builder": builder}


def test_own_images_in_use_or_not_with_their_sharing(moto_endpoint: str) -> None:
    ids = _own_images(client("ec2", moto_endpoint))
    sc = scope(moto_endpoint, region="us-east-1")
    images = {a.attrs["image_id"]: a.attrs for a in ami.collect(sc)}
    assert sc.errors == []
    assert {i: (a["owner_id"], a["public"], a["instance_ids"]) for i, a in images.items()} == {
        LINUX: (images[LINUX]["owner_id"], True, [ids["builder"]]),  # Amazon's, public
        ids["golden"]: (ACCOUNT, False, [ids["user"]]),
        ids["shared"]: (ACCOUNT, True, []),
        ids["spare"]: (ACCOUNT, False, []),
    }
    assert images[LINUX]["owner_id"] != ACCOUNT


def test_refused_own_listing_leaves_the_images_in_use(moto_endpoint: str, factory: Any) -> None:
    ids = _own_images(client("ec2", moto_endpoint))
    deny(factory, "ec2", "DescribeImages", code="UnauthorizedOperation", when={"Owner.1": "self"})
    sc = RegionScope(account=ACCOUNT, region="us-east-1", clients=factory)
    images = {a.attrs["image_id"] for a in ami.collect(sc)}
    assert images == {LINUX, ids["golden"]}
    assert error_keys(sc.errors) == {("us-east-1", "ec2", "DescribeImages",
                                      "UnauthorizedOperation", (f"{ami.IMAGE}#owned",), None)}
