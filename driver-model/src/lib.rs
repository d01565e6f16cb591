//! Hypervisor side of overlay-nic: the software that owns and programs the
//! NIC, and the golden model the NIC's datapath is checked against.
//!
//! - [`vxlan`]: VXLAN (RFC 7348) encapsulation and decapsulation done
//!   entirely in software. It is the oracle for the HDL encapsulator and
//!   decap validator, so it shares no code with the `hdl` crate, and it is
//!   the software (non-offload) path of the driver model.
//! - [`registers`]: the driver's view of the NIC's register BARs, over a
//!   bus trait with a behavioural back end here and an HDL one in `sim`.
//! - [`nic_config`]: the whole NIC configuration (local VTEP, functions,
//!   per-VNI records, mapping table), read from TOML and checked against a
//!   build's limits.
//! - [`tx`]: the golden model of the TX path (`docs/tx-path.md`): checks,
//!   outer destination, flow hash, encapsulation, counters and events.
//! - [`rx`]: the golden model of the RX path (`docs/rx-path.md`):
//!   classification, validation, source check and learning, inner
//!   checksums, delivery, counters.
//! - [`offload`]: the golden model of the TX offloads (`docs/tx-offload.md`):
//!   inner checksums, TCP segmentation and the outer UDP checksum.
//! - [`events`]: the event queue both models raise events into.
//! - [`device`]: the NIC as the host reaches it (register BARs per
//!   function, host queues, wire), the trait both back ends implement.
//! - [`nic_model`]: the fast behavioural back end of that trait: the NIC
//!   register-exact without the clock, its datapath the golden models.
//! - [`pcie`]: the PCIe endpoint around the NIC core, simulated (the PF's
//!   and VFs' configuration spaces with SR-IOV, memory routing to each
//!   function's BAR), and the host's enumeration of it.
//! - [`pf_driver`]: the PF driver: probe, VFs, and the overlay-offload
//!   callbacks it registers with the VTEP software (seed FIG. 9).
//! - [`legacy_nic`]: a NIC without the overlay offload (the fallback's).
//! - [`driver_suite`]: the driver test suite both back ends pass.
//! - [`vtep`]: the VTEP software: master table, control events, learning,
//!   the ARP proxy, and the software datapath for NICs without offload.
//! - [`host_cost`]: the host's work per packet to send a VM's frame into
//!   the overlay, with the NIC's offload (tag only) and in software (lookup,
//!   flow hash, inner checksum, encapsulation); timed by the `host-cost`
//!   binary (`docs/host-cost.md`).
//!
//! The VTEP software, the PF driver and the VF pass-through operations will
//! be further modules beside these.

pub mod device;
pub mod driver_suite;
pub mod events;
pub mod host_cost;
pub mod legacy_nic;
pub mod nic_config;
pub mod nic_model;
pub mod offload;
pub mod pcie;
pub mod pf_driver;
pub mod registers;
pub mod rx;
pub mod tx;
pub mod vtep;
pub mod vxlan;

pub use device::{DeviceError, HostFrame, NicDevice};
pub use events::EventQueueModel;
pub use nic_config::{
    BuildLimits, ConfigError, MacAddr, MapEntry, MissPolicy, NicConfig, PfConfig, PortRange,
    RxConfig, VfConfig, VlanTag, VniRecord, VtepConfig,
};
pub use offload::{OffloadDrop, OffloadRequest, TsoLayout, MSS_MIN};
pub use rx::{
    ones_complement_sum, ChecksumStatus, RxCounters, RxDelivery, RxDrop, RxError,
    RxFunctionCounters, RxMeta, RxModel, RxOutcome,
};
pub use tx::{
    flow_hash, udp_src_port, Function, FunctionCounters, NicEvent, TxDrop, TxError, TxModel,
    TxOutcome,
};

pub use vxlan::{
    decapsulate, encapsulate, DecapConfig, DecapError, Decapsulated, EncapError, EncapParams,
    OuterHeaders, OuterVlan, Vni, VniOutOfRange, VxlanHeader, VLAN_TAG_LEN, VXLAN_OVERHEAD,
    VXLAN_UDP_PORT,
};
