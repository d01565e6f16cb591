use super::*;
use crate::world::DEMO_SCENARIO;

const BASE: &str = r#"
[[subnet]]
name = "a"
prefix = "10.1.0.0/24"
router_mac = "02:00:00:00:01:01"

[[host]]
name = "h1"
subnet = "a"
vtep_ip = "10.1.0.11"
vtep_mac = "02:00:00:00:01:0b"

[[tenant]]
name = "blue"
vni = 5001
multicast_group = "239.1.1.1"

[[tenant]]
name = "red"
vni = 5002
multicast_group = "239.1.1.2"

[[vm]]
name = "b1"
tenant = "blue"
host = "h1"
attach = "vf0"
mac = "02:b1:00:00:00:01"
ip = "10.0.0.1"
"#;

fn with(extra: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_toml(&format!("{BASE}\n{extra}"))
}

fn refused(extra: &str, says: &str) {
    match with(extra) {
        Ok(_) => panic!("accepted:\n{extra}"),
        Err(e) => assert!(
            e.to_string().contains(says),
            "error `{e}` does not say `{says}`"
        ),
    }
}

#[test]
fn the_demo_scenario_is_valid() {
    let sc = Scenario::from_toml(DEMO_SCENARIO).unwrap();
    assert_eq!(sc.subnets.len(), 2);
    assert_eq!(sc.hosts.len(), 3);
    assert_eq!(sc.tenants.len(), 2);
    assert!(sc.vms.iter().any(|v| v.attach == Function::Pf));
    assert!(sc.vms.iter().any(|v| matches!(v.attach, Function::Vf(_))));
    // Overlapping inner addresses across tenants.
    let blue: BTreeSet<_> = sc
        .vms
        .iter()
        .filter(|v| v.tenant == 0)
        .map(|v| v.ip)
        .collect();
    assert!(sc.vms.iter().any(|v| v.tenant == 1 && blue.contains(&v.ip)));
    // Hosts on different subnets.
    assert_ne!(sc.hosts[0].subnet, sc.hosts[1].subnet);
    for kind in ["ping", "tcp", "udp", "probe", "migrate", "table", "leave"] {
        assert!(
            DEMO_SCENARIO.contains(&format!("do = \"{kind}\"")),
            "the demo has no {kind} event"
        );
    }
}

#[test]
fn overlapping_ips_across_tenants_are_fine() {
    let sc = with(
        r#"
[[vm]]
name = "r1"
tenant = "red"
host = "h1"
attach = "pf"
mac = "02:4e:00:00:00:01"
ip = "10.0.0.1"
"#,
    )
    .unwrap();
    assert_eq!(sc.vms.len(), 2);
    assert_eq!(sc.vms[1].mtu, 1500);
    assert!(sc.vms[1].running);
}

#[test]
fn inconsistent_worlds_are_refused_by_name() {
    refused(
        "[[vm]]\nname = \"x\"\ntenant = \"green\"\nhost = \"h1\"\nattach = \"pf\"\nmac = \"02:00:00:00:00:09\"\nip = \"10.0.0.9\"",
        "vm `x`: no tenant `green`",
    );
    refused(
        "[[vm]]\nname = \"x\"\ntenant = \"blue\"\nhost = \"h1\"\nattach = \"pf\"\nmac = \"02:00:00:00:00:09\"\nip = \"10.0.0.1\"",
        "IP 10.0.0.1 used twice in tenant `blue`",
    );
    refused(
        "[[vm]]\nname = \"x\"\ntenant = \"blue\"\nhost = \"h1\"\nattach = \"vf0\"\nmac = \"02:00:00:00:00:09\"\nip = \"10.0.0.9\"",
        "vm `b1` and vm `x` on VF0",
    );
    refused(
        "[[vm]]\nname = \"x\"\ntenant = \"blue\"\nhost = \"h1\"\nattach = \"vf9\"\nmac = \"02:00:00:00:00:09\"\nip = \"10.0.0.9\"",
        "`vf9` is not a function",
    );
    refused(
        "[[vm]]\nname = \"x\"\ntenant = \"blue\"\nhost = \"h1\"\nattach = \"pf\"\nmac = \"03:00:00:00:00:09\"\nip = \"10.0.0.9\"",
        "is a multicast MAC",
    );
    refused(
        "[[host]]\nname = \"h2\"\nsubnet = \"a\"\nvtep_ip = \"10.9.0.1\"\nvtep_mac = \"02:00:00:00:09:01\"",
        "vtep_ip 10.9.0.1 is not in subnet `a`",
    );
    refused(
        "[[tenant]]\nname = \"g\"\nvni = 5003\nmulticast_group = \"10.0.0.1\"",
        "is not an IPv4 multicast address",
    );
    refused(
        "[[tenant]]\nname = \"g\"\nvni = 5001\nmulticast_group = \"239.0.0.9\"",
        "VNI 5001 used twice",
    );
    refused(
        "[[subnet]]\nname = \"b\"\nprefix = \"10.1.0.128/25\"\nrouter_mac = \"02:00:00:00:02:01\"",
        "subnets `a` and `b` overlap",
    );
    refused(
        "[[tenant]]\nname = \"b1\"\nvni = 7\nmulticast_group = \"239.0.0.7\"",
        "used twice",
    );
    refused("bogus = 1", "unknown field");
    refused(
        "[[vm]]\nname = \"x\"\ntenant = \"blue\"\nhost = \"h1\"\nattach = \"vf1\"\nmac = \"02:00:00:00:00:09\"\nip = \"10.0.0.9\"\nmtu = 1551",
        "vm `x` has mtu 1551 on VF1; at most 1550",
    );
    refused(
        "[[vm]]\nname = \"x\"\ntenant = \"blue\"\nhost = \"h1\"\nattach = \"pf\"\nmac = \"02:00:00:00:00:09\"\nip = \"10.0.0.9\"\nmtu = 1501",
        "at most 1500 there (the PF's MTU)",
    );
    refused(
        "[[vm]]\nname = \"x\"\ntenant = \"blue\"\nhost = \"h1\"\nattach = \"pf\"\nmac = \"02:00:00:00:00:09\"\nip = \"10.0.0.9\"\nmtu = 67",
        "below IPv4's 68",
    );
}

#[test]
fn timelines_are_checked_before_the_run() {
    refused(
        "[[timeline]]\ndo = \"ping\"\nfrom = \"b1\"\nto = \"nobody\"",
        "timeline event 1: no vm `nobody`",
    );
    refused(
        "[[timeline]]\ndo = \"dance\"\nvm = \"b1\"",
        "unknown variant",
    );
    refused(
        "[[timeline]]\ndo = \"join\"\nvm = \"b1\"",
        "timeline event 1: vm `b1` is already running",
    );
    refused(
        "[[timeline]]\ndo = \"leave\"\nvm = \"b1\"\n[[timeline]]\ndo = \"leave\"\nvm = \"b1\"",
        "timeline event 2: vm `b1` is not running",
    );
    refused(
        "[[timeline]]\ndo = \"migrate\"\nvm = \"b1\"\nhost = \"h1\"\nattach = \"pf\"",
        "already on host `h1`",
    );
    refused(
        "[[vm]]\nname = \"r1\"\ntenant = \"red\"\nhost = \"h1\"\nattach = \"pf\"\nmac = \"02:4e:00:00:00:01\"\nip = \"10.0.0.5\"\n[[timeline]]\ndo = \"tcp\"\nfrom = \"b1\"\nto = \"r1\"\nbytes = 10",
        "different tenants",
    );
    refused(
        "[[timeline]]\ndo = \"ping\"\nfrom = \"b1\"\nto = \"b1\"\ncount = 0",
        "count is 0",
    );
    refused(
        "[[timeline]]\ndo = \"table\"\nhost = \"h1\"\nvm = \"b1\"\nat = \"h7\"",
        "no host `h7`",
    );
    // A VM that left may join again, elsewhere.
    let sc = with(
        "[[timeline]]\ndo = \"leave\"\nvm = \"b1\"\n[[timeline]]\ndo = \"join\"\nvm = \"b1\"\nattach = \"vf2\"",
    )
    .unwrap();
    assert_eq!(sc.timeline.len(), 2);
}
