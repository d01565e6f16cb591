//! The driver suite on the behavioural back end (`NicModel`); `sim`'s
//! `driver_suite` test runs the same checks on the HDL.

use overlay_nic_driver::device::NicDevice;
use overlay_nic_driver::driver_suite::CHECKS;
use overlay_nic_driver::nic_model::NicModel;
use overlay_nic_regmap::Build;

fn model() -> Box<dyn NicDevice> {
    Box::new(NicModel::new(Build::DEFAULT))
}

#[test]
fn driver_suite_passes_on_the_behavioural_model() {
    for (name, check) in CHECKS {
        eprintln!("driver suite on NicModel: {name}");
        check(&mut model);
    }
}
