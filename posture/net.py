"""Network vocabulary shared by every cloud: port classes, service names, the internet.

Defined once so that the same listener is judged the same way on AWS, Azure and GCP (a database
on tcp/9300 is a database port everywhere) and every exposure verdict uses one definition of
"the internet".

- :data:`ADMIN_PORTS`, :data:`DATABASE_PORTS`: the port classes the exposure and defense-depth
  checks judge by default (each check takes them as parameters, so a policy can widen them).
- :data:`SERVICES`: what usually listens on a port, for messages (``SSH (tcp/22)``).
- :data:`NON_PUBLIC_IPV4`, :data:`GLOBAL_IPV6`: the address space internet clients come from is
  public unicast IPv4 (everything but "this network", private, shared/CGNAT, loopback,
  link-local, multicast and reserved, RFC 6890) and global unicast IPv6.
- :data:`WIDE`: how many such clients make "the internet" rather than an allow-list: a /8 worth
  of public IPv4 or a /16 worth of global IPv6 (several narrow ranges count together).
"""

from __future__ import annotations

ADMIN_PORTS: tuple[int, ...] = (22, 3389, 5985, 5986)
DATABASE_PORTS: tuple[int, ...] = (
    1433, 1521, 3306, 5432, 5439, 5984, 6379, 8086, 9042, 9200, 9300, 11211, 27017, 27018,
)
SERVICES: dict[int, str] = {
    22: "SSH",
    3389: "RDP",
    5985: "WinRM",
    5986: "WinRM",
    1433: "SQL Server",
    1521: "Oracle",
    3306: "MySQL",
    5432: "PostgreSQL",
    5439: "Redshift",
    5984: "CouchDB",
    6379: "Redis",
    8086: "InfluxDB",
    9042: "Cassandra",
    9200: "Elasticsearch",
    9300: "Elasticsearch",
    11211: "Memcached",
    27017: "MongoDB",
    27018: "MongoDB",
}
PORT_CLASSES: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("admin", ADMIN_PORTS),
    ("database", DATABASE_PORTS),
)

NON_PUBLIC_IPV4: tuple[str, ...] = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/3",  # multicast 224/4 and reserved 240/4
)
GLOBAL_IPV6 = "2000::/3"
WIDE: dict[int, int] = {4: 1 << 24, 6: 1 << 112}
ANYWHERE: dict[int, str] = {4: "0.0.0.0/0", 6: "::/0"}


def service_label(port: int, protocol: str = "tcp") -> str:
    """``SSH (tcp/22)``, or ``tcp/8080`` for a port without a well-known service."""
    name = SERVICES.get(port) if protocol == "tcp" else None
    text = f"{protocol}/{port}"
    return f"{name} ({text})" if name else text
