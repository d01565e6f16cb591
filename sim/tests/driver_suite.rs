//! The driver suite (`overlay_nic_driver::driver_suite`) on the
//! cycle-accurate HDL NIC: the same checks `driver-model`'s test runs on
//! the behavioural model, so the driver cannot tell the two apart.

use overlay_nic_driver::device::NicDevice;
use overlay_nic_driver::driver_suite::CHECKS;
use overlay_nic_sim::device::HdlDevice;

#[test]
fn driver_suite_passes_on_the_hdl() {
    let mut seed = 0;
    let mut hdl = || -> Box<dyn NicDevice> {
        seed += 1;
        Box::new(HdlDevice::new(seed).expect("HDL NIC"))
    };
    for (name, check) in CHECKS {
        eprintln!("driver suite on the HDL: {name}");
        check(&mut hdl);
    }
}

/// The same suite on the free-running HDL device the multi-host world
/// uses: register accesses interleaved with streaming traffic cycle by
/// cycle instead of between whole-batch runs.
#[test]
fn driver_suite_passes_on_the_streaming_hdl() {
    let mut hdl = || -> Box<dyn NicDevice> {
        Box::new(overlay_nic_sim::streaming_nic::StreamingNic::new().expect("HDL NIC"))
    };
    for (name, check) in CHECKS {
        eprintln!("driver suite on the streaming HDL: {name}");
        check(&mut hdl);
    }
}
