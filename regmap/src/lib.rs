//! overlay-nic-regmap: the register map of the overlay-nic NIC, written once.
//!
//! The hardware's register decode (`overlay_nic_hdl::RegisterFile` is built
//! from these tables), the driver's accessors and the register-map document
//! (`overlay-nic regmap`) all come from the tables here, so they cannot drift
//! apart. The crate is pure data: it knows nothing of RustHDL or of buses,
//! which is why both the hardware and the driver may depend on it while
//! still depending on nothing of each other.
//!
//! ```
//! use overlay_nic_regmap::{pf, Access};
//! assert_eq!(pf::VXLAN_UDP_PORT.reset, 4789);
//! assert_eq!(pf::ID.access, Access::Constant);
//! assert!(pf::TABLE.iter().any(|r| r.name == "SCRATCH"));
//! ```

/// How the bus may touch a register, and what a read returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// Storage the host writes and reads back; its value drives the datapath.
    /// Bits outside `mask` are reserved: they read as zero and ignore writes.
    ReadWrite,
    /// Status produced by the datapath. Writing it is an error.
    ReadOnly,
    /// A fixed value (`reset`), such as an ID or version. Writing is an error.
    Constant,
    /// A doorbell: a write pulses the datapath for one cycle with the data;
    /// nothing is stored. Reading it is an error.
    WriteOnly,
    /// Read-only count of bus accesses answered with an error (wraps at 2^32).
    BusErrorCount,
    /// Read-only byte address of the most recent access answered with an error.
    BusErrorAddress,
}

impl Access {
    /// Whether a write to a register of this kind is legal.
    pub const fn writable(self) -> bool {
        matches!(self, Access::ReadWrite | Access::WriteOnly)
    }
    /// Whether a read of a register of this kind is legal.
    pub const fn readable(self) -> bool {
        !matches!(self, Access::WriteOnly)
    }
    /// Short name used in the generated document.
    pub const fn label(self) -> &'static str {
        match self {
            Access::ReadWrite => "RW",
            Access::ReadOnly => "RO",
            Access::Constant => "RO (constant)",
            Access::WriteOnly => "WO (doorbell)",
            Access::BusErrorCount => "RO (bus errors)",
            Access::BusErrorAddress => "RO (bus errors)",
        }
    }
}

/// One 32-bit register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Register {
    /// Upper-case name, unique within its table.
    pub name: &'static str,
    /// Byte offset in the BAR; 32-bit aligned.
    pub offset: u32,
    pub access: Access,
    /// Value after reset (for `Constant`, the value always read).
    pub reset: u32,
    /// Implemented bits of a `ReadWrite` register; others read as zero.
    pub mask: u32,
    /// One line for the register-map document.
    pub doc: &'static str,
}

/// AXI4-Lite response codes, as the register slave answers them.
pub mod resp {
    /// Access done.
    pub const OKAY: u8 = 0b00;
    /// The register exists but refused this access (write to read-only,
    /// read of a doorbell, unaligned address).
    pub const SLVERR: u8 = 0b10;
    /// No register at this address.
    pub const DECERR: u8 = 0b11;
}

/// Byte-address bits decoded by a register slave (a 64 KiB BAR window).
pub const ADDRESS_BITS: usize = 16;

/// Checks a table's invariants: unique names and offsets, aligned offsets
/// inside the BAR window, reset values within the mask.
pub fn validate(table: &[Register]) -> Result<(), String> {
    for (i, r) in table.iter().enumerate() {
        if r.offset % 4 != 0 {
            return Err(format!(
                "{}: offset {:#x} is not 32-bit aligned",
                r.name, r.offset
            ));
        }
        if r.offset >= 1 << ADDRESS_BITS {
            return Err(format!(
                "{}: offset {:#x} outside the BAR",
                r.name, r.offset
            ));
        }
        if r.access == Access::ReadWrite && r.reset & !r.mask != 0 {
            return Err(format!(
                "{}: reset {:#x} outside mask {:#x}",
                r.name, r.reset, r.mask
            ));
        }
        for other in &table[..i] {
            if other.name == r.name {
                return Err(format!("duplicate register name {}", r.name));
            }
            if other.offset == r.offset {
                return Err(format!(
                    "{} and {} share offset {:#x}",
                    other.name, r.name, r.offset
                ));
            }
        }
    }
    Ok(())
}

/// The register-map document of `table` as Markdown.
pub fn markdown(title: &str, table: &[Register]) -> String {
    let mut out = format!(
        "## {title}\n\n| offset | name | access | reset | bits | description |\n|---|---|---|---|---|---|\n"
    );
    for r in table {
        let bits = match r.access {
            Access::ReadWrite => format!("`{:#010x}`", r.mask),
            _ => "31:0".to_string(),
        };
        out.push_str(&format!(
            "| `{:#06x}` | `{}` | {} | `{:#010x}` | {} | {} |\n",
            r.offset,
            r.name,
            r.access.label(),
            r.reset,
            bits,
            r.doc.trim()
        ));
    }
    out
}

/// The whole register-map document, as `docs/registers.md` holds it.
pub fn document() -> String {
    let mut out = String::from(
        "# overlay-nic register map\n\n\
         Generated from `regmap/src/lib.rs` by `overlay-nic regmap`; do not edit by hand \
         (a test fails when this file and the tables disagree).\n\n\
         Every register is 32 bits wide and 32-bit aligned. Accesses are AXI4-Lite: \
         an unaligned address or an access the register's kind refuses is answered \
         with SLVERR (`0b10`), an address with no register with DECERR (`0b11`); \
         either way nothing changes but the bus error count and address. Writes honour \
         the byte strobes.\n\n",
    );
    let build = Build::DEFAULT;
    out.push_str(&markdown(
        "PF BAR0: global registers",
        &pf::table(&build)[..pf::TABLE.len()],
    ));
    out.push_str(&format!(
        "\n## PF BAR0: function blocks\n\nOne block per function at `{:#06x} + {:#x} * f` (f = 0 the PF, 1 + i VF i; \
         the default build has {} VFs). Offsets below are relative to the block; \
         registers are named `PF_...`, `VF0_...`, ...\n\n",
        pf::FUNCTION_BASE,
        pf::FUNCTION_STRIDE,
        build.vfs
    ));
    out.push_str(
        &markdown("Function block", pf::function::TABLE).replace("## Function block\n\n", ""),
    );
    out.push_str(&format!(
        "\n## VF BAR0\n\nWhat a VF's own driver sees: {:#x} bytes, routed by the PCIe endpoint to the NIC's \
         VF register port at `{:#x} * i + offset` for VF i. The function block is a read-only copy of the \
         VF's block in the PF BAR (without `VNI`); its MAC, MTU and VNI change only through the PF driver. \
         Any other offset answers DECERR, a write SLVERR; the error count and address are the VF's own.\n\n",
        vf::BAR_SIZE,
        vf::BAR_SIZE
    ));
    out.push_str(&markdown("VF BAR0", &vf::table()).replace("## VF BAR0\n\n", ""));
    out
}

/// The size parameters of one hardware build, as the capability registers
/// report them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Build {
    /// Virtual functions (the PF is always there).
    pub vfs: usize,
    /// Mapping-table entries.
    pub table_entries: usize,
    /// Per-VNI records.
    pub vni_records: usize,
    /// Event-queue depth.
    pub event_depth: usize,
    /// Longest host frame the TX path accepts, in bytes.
    pub max_frame: usize,
}

impl Build {
    /// The default build: 4 VFs, 64 table entries, 16 VNI records, 16
    /// queued events, 16 KiB frames (its TX buffer holds two).
    pub const DEFAULT: Build = Build {
        vfs: 4,
        table_entries: 64,
        vni_records: 16,
        event_depth: 16,
        max_frame: 16384,
    };

    /// The `small` build, for an iCE40 HX8K: 1 VF, 16 table entries, 4 VNI
    /// records, standard frames only (2 KiB; its buffers hold two).
    pub const SMALL: Build = Build {
        vfs: 1,
        table_entries: 16,
        vni_records: 4,
        event_depth: 16,
        max_frame: 2048,
    };

    /// The `large` build, for an ECP5-85k: 8 VFs, 128 table entries, 64 VNI
    /// records, 16 KiB frames.
    pub const LARGE: Build = Build {
        vfs: 8,
        table_entries: 128,
        vni_records: 64,
        event_depth: 16,
        max_frame: 16384,
    };

    /// Number of host functions (PF + VFs).
    pub const fn functions(&self) -> usize {
        self.vfs + 1
    }
    /// `CAPABILITY`: bit 0 VXLAN TX offload, bit 1 VXLAN RX offload, bit 2
    /// TX checksum offload (`CHECKSUM_PARTIAL` and IPv4 header), bit 3 TSO,
    /// 15:8 VFs.
    pub const fn capability(&self) -> u32 {
        15 | ((self.vfs as u32) << 8)
    }
    /// `TABLE_SIZES`: entries 15:0, VNI records 31:16.
    pub const fn table_sizes(&self) -> u32 {
        self.table_entries as u32 | ((self.vni_records as u32) << 16)
    }
    /// `MAX_FRAME`: max frame 15:0, event depth 31:16.
    pub const fn max_frame_word(&self) -> u32 {
        self.max_frame as u32 | ((self.event_depth as u32) << 16)
    }
}

impl Default for Build {
    fn default() -> Self {
        Build::DEFAULT
    }
}

macro_rules! register_table {
    ($( $(#[doc = $doc:literal])* $name:ident @ $offset:literal : $access:ident = $reset:literal, mask $mask:literal; )*) => {
        $(
            $(#[doc = $doc])*
            pub const $name: Register = Register {
                name: stringify!($name),
                offset: $offset,
                access: Access::$access,
                reset: $reset,
                mask: $mask,
                doc: concat!($($doc),*),
            };
        )*
        /// Every register of this BAR, in address order.
        pub const TABLE: &[Register] = &[$($name),*];
    };
}

/// The physical function's BAR0: identification, the bus's own status, and
/// the local VTEP's global configuration.
pub mod pf {
    use super::{Access, Register};

    /// `ID` reads as ASCII "ONIC".
    pub const ID_VALUE: u32 = 0x4f4e_4943;
    /// `VERSION`: major in 31:16, minor in 15:0.
    pub const VERSION_VALUE: u32 = 0x0000_0001;

    register_table! {
        /// Identification: ASCII "ONIC".
        ID @ 0x0000 : Constant = 0x4f4e4943, mask 0xffffffff;
        /// Register-map version: major 31:16, minor 15:0.
        VERSION @ 0x0004 : Constant = 0x00000001, mask 0xffffffff;
        /// Free scratch register for bus tests; no effect on the datapath.
        SCRATCH @ 0x0008 : ReadWrite = 0x00000000, mask 0xffffffff;
        /// Count of bus accesses answered with SLVERR or DECERR (wraps).
        BUS_ERRORS @ 0x000c : BusErrorCount = 0x00000000, mask 0xffffffff;
        /// Byte address of the last access answered with an error.
        BUS_ERROR_ADDR @ 0x0010 : BusErrorAddress = 0x00000000, mask 0xffffffff;
        /// Local VTEP MAC address, bytes 0-1 (first on the wire) in 15:8 and 7:0.
        VTEP_MAC_HI @ 0x0020 : ReadWrite = 0x00000000, mask 0x0000ffff;
        /// Local VTEP MAC address, bytes 2-5 in 31:24 .. 7:0.
        VTEP_MAC_LO @ 0x0024 : ReadWrite = 0x00000000, mask 0xffffffff;
        /// Local VTEP IPv4 address (first octet in 31:24).
        VTEP_IP @ 0x0028 : ReadWrite = 0x00000000, mask 0xffffffff;
        /// Local VTEP subnet mask (first octet in 31:24).
        VTEP_NETMASK @ 0x002c : ReadWrite = 0x00000000, mask 0xffffffff;
        /// Outer UDP destination port for VXLAN (IANA 4789).
        VXLAN_UDP_PORT @ 0x0030 : ReadWrite = 0x000012b5, mask 0x0000ffff;
        /// Outer UDP source-port range: lowest port in 15:0, highest in 31:16.
        UDP_SRC_PORT_RANGE @ 0x0034 : ReadWrite = 0xffffc000, mask 0xffffffff;
        /// Outer IPv4: TTL in 7:0, DF in bit 8; bit 9 computes the outer UDP checksum (else 0, RFC 7348).
        OUTER_IP @ 0x0038 : ReadWrite = 0x00000140, mask 0x000003ff;
        /// Outer 802.1Q tag: enable in bit 16, PCP in 15:13, VID in 11:0.
        OUTER_VLAN @ 0x003c : ReadWrite = 0x00000000, mask 0x0001efff;
        /// Underlay gateway MAC, bytes 0-1: the outer destination MAC for remote VTEPs outside the local VTEP subnet (seed [0069]).
        VTEP_GW_MAC_HI @ 0x0040 : ReadWrite = 0x00000000, mask 0x0000ffff;
        /// Underlay gateway MAC, bytes 2-5.
        VTEP_GW_MAC_LO @ 0x0044 : ReadWrite = 0x00000000, mask 0xffffffff;
        /// Capabilities of this build: bit 0 VXLAN TX offload, bit 1 VXLAN RX offload, bit 2 TX checksum offload, bit 3 TCP segmentation (TSO); 15:8 number of VFs. (The table gives the default build's value.)
        CAPABILITY @ 0x0048 : Constant = 0x0000040f, mask 0xffffffff;
        /// Table sizes of this build: mapping-table entries in 15:0, per-VNI records in 31:16.
        TABLE_SIZES @ 0x004c : Constant = 0x00100040, mask 0xffffffff;
        /// Longest host frame the TX path accepts, in bytes, in 15:0; event-queue depth in 31:16.
        MAX_FRAME @ 0x0050 : Constant = 0x00104000, mask 0xffffffff;
        /// RX options: bit 0 strict VXLAN flags (drop frames with reserved bits set), bit 1 check the source VTEP MAC as well as its IP (docs/rx-path.md).
        RX_CONFIG @ 0x0054 : ReadWrite = 0x00000000, mask 0x00000003;
        /// Mapping-table staging: key VNI in 23:0.
        MAP_KEY_VNI @ 0x0100 : ReadWrite = 0x00000000, mask 0x00ffffff;
        /// Mapping-table staging: key inner MAC, bytes 0-1.
        MAP_KEY_MAC_HI @ 0x0104 : ReadWrite = 0x00000000, mask 0x0000ffff;
        /// Mapping-table staging: key inner MAC, bytes 2-5.
        MAP_KEY_MAC_LO @ 0x0108 : ReadWrite = 0x00000000, mask 0xffffffff;
        /// Mapping-table staging: remote VTEP IPv4 address.
        MAP_VTEP_IP @ 0x010c : ReadWrite = 0x00000000, mask 0xffffffff;
        /// Mapping-table staging: remote VTEP MAC, bytes 0-1.
        MAP_VTEP_MAC_HI @ 0x0110 : ReadWrite = 0x00000000, mask 0x0000ffff;
        /// Mapping-table staging: remote VTEP MAC, bytes 2-5.
        MAP_VTEP_MAC_LO @ 0x0114 : ReadWrite = 0x00000000, mask 0xffffffff;
        /// Mapping-table slot for the READ command.
        MAP_INDEX @ 0x0118 : ReadWrite = 0x00000000, mask 0x0000ffff;
        /// Mapping-table command doorbell: 1 ADD (insert, or replace the entry with the staged key), 2 DELETE (by key), 3 READ (slot MAP_INDEX into MAP_RD_*), 4 FIND (by key into MAP_RD_*), 5 CLEAR (all). Takes effect atomically between lookups.
        MAP_CMD @ 0x011c : WriteOnly = 0x00000000, mask 0x00000007;
        /// Mapping-table status: 3:0 result of the last command (0 OK, 1 FULL, 2 NOT_FOUND, 3 BAD_INDEX, 4 BAD_COMMAND, 5 BUSY), bit 8 busy, 31:16 entries in use.
        MAP_STATUS @ 0x0120 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back (READ/FIND): bit 31 slot in use, 23:0 key VNI.
        MAP_RD_KEY_VNI @ 0x0130 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: key inner MAC, bytes 0-1.
        MAP_RD_KEY_MAC_HI @ 0x0134 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: key inner MAC, bytes 2-5.
        MAP_RD_KEY_MAC_LO @ 0x0138 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: remote VTEP IPv4 address.
        MAP_RD_VTEP_IP @ 0x013c : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: remote VTEP MAC, bytes 0-1.
        MAP_RD_VTEP_MAC_HI @ 0x0140 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: remote VTEP MAC, bytes 2-5.
        MAP_RD_VTEP_MAC_LO @ 0x0144 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: the slot read or found.
        MAP_RD_INDEX @ 0x0148 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Per-VNI record staging: VNI in 23:0.
        VNI_KEY @ 0x0200 : ReadWrite = 0x00000000, mask 0x00ffffff;
        /// Per-VNI record staging: multicast group IPv4 address (BUM traffic and the flood miss policy).
        VNI_MCAST_IP @ 0x0204 : ReadWrite = 0x00000000, mask 0xffffffff;
        /// Per-VNI record staging: gateway VTEP IPv4 address (the gateway miss policy, seed [0114]).
        VNI_GW_IP @ 0x0208 : ReadWrite = 0x00000000, mask 0xffffffff;
        /// Per-VNI record staging: gateway MAC, bytes 0-1.
        VNI_GW_MAC_HI @ 0x020c : ReadWrite = 0x00000000, mask 0x0000ffff;
        /// Per-VNI record staging: gateway MAC, bytes 2-5.
        VNI_GW_MAC_LO @ 0x0210 : ReadWrite = 0x00000000, mask 0xffffffff;
        /// Per-VNI record staging: miss policy in 1:0 (0 flood to the multicast group, 1 gateway, 2 drop).
        VNI_POLICY @ 0x0214 : ReadWrite = 0x00000000, mask 0x00000003;
        /// Per-VNI record slot for the READ command.
        VNI_INDEX @ 0x0218 : ReadWrite = 0x00000000, mask 0x0000ffff;
        /// Per-VNI record command doorbell, as MAP_CMD (key = VNI_KEY).
        VNI_CMD @ 0x021c : WriteOnly = 0x00000000, mask 0x00000007;
        /// Per-VNI record status, as MAP_STATUS.
        VNI_STATUS @ 0x0220 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: bit 31 slot in use, 23:0 VNI.
        VNI_RD_KEY @ 0x0230 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: multicast group.
        VNI_RD_MCAST_IP @ 0x0234 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: gateway IPv4 address.
        VNI_RD_GW_IP @ 0x0238 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: gateway MAC, bytes 0-1.
        VNI_RD_GW_MAC_HI @ 0x023c : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: gateway MAC, bytes 2-5.
        VNI_RD_GW_MAC_LO @ 0x0240 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: miss policy.
        VNI_RD_POLICY @ 0x0244 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Read-back: the slot read or found.
        VNI_RD_INDEX @ 0x0248 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Event queue: events waiting in 15:0.
        EVENT_STATUS @ 0x0300 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Events discarded because the queue was full (wraps).
        EVENT_LOST @ 0x0304 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Oldest event: type in 31:24 (0 none, 1 TX miss, 2 learn), VNI in 23:0.
        EVENT_TYPE_VNI @ 0x0308 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Oldest event: inner MAC, bytes 0-1.
        EVENT_MAC_HI @ 0x030c : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Oldest event: inner MAC, bytes 2-5.
        EVENT_MAC_LO @ 0x0310 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Oldest event: VTEP IPv4 address (learn events; 0 for misses).
        EVENT_VTEP_IP @ 0x0314 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Oldest event: VTEP MAC, bytes 0-1 (learn events).
        EVENT_VTEP_MAC_HI @ 0x0318 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Oldest event: VTEP MAC, bytes 2-5 (learn events).
        EVENT_VTEP_MAC_LO @ 0x031c : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Doorbell: discard the oldest event (read it first).
        EVENT_POP @ 0x0320 : WriteOnly = 0x00000000, mask 0x00000001;
        /// Frames received from the wire (wraps).
        RX_WIRE_FRAMES @ 0x0400 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Bytes of those frames (wraps).
        RX_WIRE_BYTES @ 0x0404 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Non-overlay frames passed to the PF untouched.
        RX_NON_OVERLAY @ 0x0408 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Overlay frames that passed validation and were decapsulated.
        RX_DECAPSULATED @ 0x040c : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Of those, frames from an unknown or moved source: sent to the PF only, with a learn event.
        RX_LEARN @ 0x0410 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Dropped: shorter than the headers it announces.
        RX_DROP_TRUNCATED @ 0x0414 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Dropped: outer IPv4 total length not the frame's.
        RX_DROP_IP_LENGTH @ 0x0418 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Dropped: outer IPv4 header checksum wrong.
        RX_DROP_IP_CHECKSUM @ 0x041c : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Dropped: outer IPv4 fragment.
        RX_DROP_FRAGMENT @ 0x0420 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Dropped: outer UDP length not the datagram's.
        RX_DROP_UDP_LENGTH @ 0x0424 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Dropped: non-zero outer UDP checksum wrong.
        RX_DROP_UDP_CHECKSUM @ 0x0428 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Dropped: outer destination MAC neither the VTEP's nor multicast.
        RX_DROP_DST_MAC @ 0x042c : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Dropped: VXLAN I flag clear (or reserved bits set in strict mode).
        RX_DROP_VXLAN_FLAGS @ 0x0430 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Dropped: the VNI has no per-VNI record.
        RX_DROP_NO_VNI @ 0x0434 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Dropped: outer destination IP neither the VTEP's nor the VNI's multicast group.
        RX_DROP_DST_IP @ 0x0438 : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Dropped: outer VLAN tag not the VTEP's.
        RX_DROP_VLAN @ 0x043c : ReadOnly = 0x00000000, mask 0xffffffff;
        /// Dropped: the RX buffer was full (hosts not reading).
        RX_DROP_OVERFLOW @ 0x0440 : ReadOnly = 0x00000000, mask 0xffffffff;
    }

    /// Mapping-table and VNI-record command codes (`MAP_CMD`, `VNI_CMD`).
    pub mod cmd {
        pub const ADD: u32 = 1;
        pub const DELETE: u32 = 2;
        pub const READ: u32 = 3;
        pub const FIND: u32 = 4;
        pub const CLEAR: u32 = 5;
    }

    /// Command results (`MAP_STATUS`/`VNI_STATUS` bits 3:0).
    pub mod result {
        pub const OK: u32 = 0;
        pub const FULL: u32 = 1;
        pub const NOT_FOUND: u32 = 2;
        pub const BAD_INDEX: u32 = 3;
        pub const BAD_COMMAND: u32 = 4;
        pub const BUSY: u32 = 5;
    }

    /// Event types (`EVENT_TYPE_VNI` bits 31:24).
    pub mod event {
        pub const NONE: u32 = 0;
        pub const TX_MISS: u32 = 1;
        /// RX from an unknown or moved source: VNI, inner source MAC, outer source IP and MAC.
        pub const LEARN: u32 = 2;
    }

    /// Where function `f`'s block starts (f = 0 the PF, 1 + i VF i).
    pub const FUNCTION_BASE: u32 = 0x1000;
    /// Bytes between function blocks.
    pub const FUNCTION_STRIDE: u32 = 0x100;
    /// Function ids are 4 bits: the PF and up to 15 VFs.
    pub const MAX_VFS: usize = 15;

    /// One function's block; offsets are relative to the block
    /// (see [`function_register`]).
    pub mod function {
        use crate::{Access, Register};
        register_table! {
            /// The function's MAC address, bytes 0-1. A VF frame with another source MAC is dropped (anti-spoofing).
            MAC_HI @ 0x0000 : ReadWrite = 0x00000000, mask 0x0000ffff;
            /// The function's MAC address, bytes 2-5.
            MAC_LO @ 0x0004 : ReadWrite = 0x00000000, mask 0xffffffff;
            /// VF overlay segment: bit 31 enable (every frame encapsulated), VNI in 23:0. Ignored for the PF, whose frames carry their own tag.
            VNI @ 0x0008 : ReadWrite = 0x00000000, mask 0x80ffffff;
            /// L3 MTU in bytes: a longer frame (excluding its 14- or 18-byte L2 header) is dropped, never fragmented.
            MTU @ 0x000c : ReadWrite = 0x000005dc, mask 0x0000ffff;
            /// Frames the function sent to the NIC (wraps).
            TX_FRAMES @ 0x0040 : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Bytes of those frames (wraps).
            TX_BYTES @ 0x0044 : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Frames sent to the wire encapsulated.
            TX_ENCAPSULATED @ 0x0048 : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Dropped: shorter than an Ethernet header.
            TX_DROP_RUNT @ 0x004c : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Dropped: VF frame with a source MAC not the VF's.
            TX_DROP_SPOOFED @ 0x0050 : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Dropped: longer than the MTU or than MAX_FRAME.
            TX_DROP_MTU @ 0x0054 : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Dropped: the frame's VNI has no per-VNI record.
            TX_DROP_NO_VNI @ 0x0058 : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Dropped: mapping-table miss with the drop policy.
            TX_DROP_MISS @ 0x005c : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Mapping-table misses, whatever the policy.
            TX_MISSES @ 0x0060 : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Frames delivered to the function (wraps).
            RX_FRAMES @ 0x0080 : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Bytes of those frames as delivered (inner length when decapsulated; wraps).
            RX_BYTES @ 0x0084 : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Of those, decapsulated frames.
            RX_DECAPSULATED @ 0x0088 : ReadOnly = 0x00000000, mask 0xffffffff;
            /// VF copies dropped: bad inner IPv4 or TCP/UDP checksum (the PF gets such frames flagged).
            RX_DROP_INNER_CHECKSUM @ 0x008c : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Dropped: checksum request whose field does not lie in the frame (docs/tx-offload.md).
            TX_DROP_OFFLOAD_CSUM @ 0x0064 : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Dropped: IPv4 header checksum request on a frame without an IPv4 header.
            TX_DROP_OFFLOAD_IP @ 0x0068 : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Dropped: TSO request on a frame that is not a whole TCP/IPv4 packet, or MSS below 64.
            TX_DROP_OFFLOAD_TSO @ 0x006c : ReadOnly = 0x00000000, mask 0xffffffff;
            /// Segments TSO produced (each then counted in TX_ENCAPSULATED when encapsulated).
            TX_TSO_SEGMENTS @ 0x0070 : ReadOnly = 0x00000000, mask 0xffffffff;
        }
    }

    /// Register `r` of [`function`]'s block, placed in function `f`'s block
    /// and named with its function (`PF_MTU`, `VF2_TX_FRAMES`).
    pub fn function_register(f: usize, r: &Register) -> Register {
        assert!(f <= MAX_VFS, "function {f} beyond the PF and {MAX_VFS} VFs");
        static NAMES: std::sync::OnceLock<Vec<Vec<&'static str>>> = std::sync::OnceLock::new();
        let names = NAMES.get_or_init(|| {
            (0..=MAX_VFS)
                .map(|f| {
                    function::TABLE
                        .iter()
                        .map(|r| {
                            let prefix = if f == 0 {
                                "PF".to_string()
                            } else {
                                format!("VF{}", f - 1)
                            };
                            // Leaked once per (function, register): a bounded, static set.
                            &*Box::leak(format!("{prefix}_{}", r.name).into_boxed_str())
                        })
                        .collect()
                })
                .collect()
        });
        let i = function::TABLE
            .iter()
            .position(|x| x.offset == r.offset)
            .expect("a register of pf::function");
        Register {
            name: names[f][i],
            offset: FUNCTION_BASE + FUNCTION_STRIDE * f as u32 + r.offset,
            ..*r
        }
    }

    /// The whole BAR0 of a build: the global registers (with the build's
    /// capability words) and one block per function.
    pub fn table(build: &crate::Build) -> Vec<Register> {
        let mut out: Vec<Register> = TABLE
            .iter()
            .map(|r| match r.name {
                "CAPABILITY" => Register {
                    reset: build.capability(),
                    ..*r
                },
                "TABLE_SIZES" => Register {
                    reset: build.table_sizes(),
                    ..*r
                },
                "MAX_FRAME" => Register {
                    reset: build.max_frame_word(),
                    ..*r
                },
                _ => *r,
            })
            .collect();
        for f in 0..=build.vfs {
            out.extend(function::TABLE.iter().map(|r| function_register(f, r)));
        }
        out
    }
}

/// A virtual function's BAR0, as the VF's own driver (in the tenant's VM)
/// sees it. The PCIe endpoint routes VF i's BAR0 to the NIC's VF register
/// port at `i * vf::BAR_SIZE + offset`, so a VF can name no address outside
/// its own window. The window holds identification, its own bus-error
/// registers, and a read-only copy of its function block (everything but
/// the VNI, which is the hypervisor's business). Everything else (the
/// mapping table, the VTEP, other functions, events) is simply not there:
/// the hardware answers DECERR. Writes to the copy answer SLVERR: the
/// VF's MAC, MTU and VNI change only through the PF driver.
pub mod vf {
    use super::{pf, Access, Register};

    /// `ID` reads as ASCII "ONVF".
    pub const ID_VALUE: u32 = 0x4f4e_5646;
    /// Bytes of one VF BAR (and of its window on the VF register port).
    pub const BAR_SIZE: u32 = 0x1000;
    /// Where the read-only copy of the function block starts.
    pub const FUNCTION_BASE: u32 = 0x0100;

    register_table! {
        /// Identification: ASCII "ONVF".
        ID @ 0x0000 : Constant = 0x4f4e5646, mask 0xffffffff;
        /// Register-map version: major 31:16, minor 15:0 (as the PF's).
        VERSION @ 0x0004 : Constant = 0x00000001, mask 0xffffffff;
        /// Count of this VF's bus accesses answered with SLVERR or DECERR (wraps).
        BUS_ERRORS @ 0x000c : BusErrorCount = 0x00000000, mask 0xffffffff;
        /// Offset in this VF's BAR of its last access answered with an error.
        BUS_ERROR_ADDR @ 0x0010 : BusErrorAddress = 0x00000000, mask 0xffffffff;
    }

    /// Whether the VF's window shows function-block register `r`.
    pub fn shows(r: &Register) -> bool {
        r.offset != pf::function::VNI.offset
    }

    /// The function-block register `r` as the VF's BAR shows it: at
    /// [`FUNCTION_BASE`] + its block offset, read-only.
    pub fn function_register(r: &Register) -> Register {
        assert!(shows(r), "{} is not in a VF's BAR", r.name);
        Register {
            offset: FUNCTION_BASE + r.offset,
            access: Access::ReadOnly,
            ..*r
        }
    }

    /// The whole VF BAR0: the registers above, then the function block copy.
    pub fn table() -> Vec<Register> {
        let mut out = TABLE.to_vec();
        out.extend(
            pf::function::TABLE
                .iter()
                .filter(|r| shows(r))
                .map(function_register),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pf_table_is_valid() {
        validate(pf::TABLE).unwrap();
        assert_eq!(pf::ID.reset, pf::ID_VALUE);
        assert_eq!(pf::VERSION.reset, pf::VERSION_VALUE);
        assert_eq!(pf::UDP_SRC_PORT_RANGE.reset & 0xffff, 49152);
        assert_eq!(pf::UDP_SRC_PORT_RANGE.reset >> 16, 65535);
        assert_eq!(pf::OUTER_IP.reset & 0xff, 64);
        assert_eq!(pf::OUTER_IP.reset >> 8 & 1, 1, "DF set by default");
    }

    #[test]
    fn build_tables_are_valid() {
        for vfs in [0, 1, 4, pf::MAX_VFS] {
            let build = Build {
                vfs,
                ..Build::DEFAULT
            };
            let table = pf::table(&build);
            validate(&table).unwrap();
            assert_eq!(
                table.len(),
                pf::TABLE.len() + (vfs + 1) * pf::function::TABLE.len()
            );
        }
        // The static table documents the default build.
        let t = pf::table(&Build::DEFAULT);
        assert_eq!(t[..pf::TABLE.len()], *pf::TABLE);
        let r = pf::function_register(3, &pf::function::TX_FRAMES);
        assert_eq!(r.name, "VF2_TX_FRAMES");
        assert_eq!(r.offset, 0x1340);
        assert_eq!(pf::function_register(0, &pf::function::MTU).name, "PF_MTU");
    }

    #[test]
    fn function_block_fits_its_stride() {
        for r in pf::function::TABLE {
            assert!(r.offset < pf::FUNCTION_STRIDE, "{}", r.name);
        }
        for r in pf::TABLE {
            assert!(r.offset < pf::FUNCTION_BASE, "{}", r.name);
        }
    }

    #[test]
    fn validate_rejects_bad_tables() {
        let a = Register {
            name: "A",
            offset: 0,
            access: Access::ReadWrite,
            reset: 0,
            mask: 0xff,
            doc: "",
        };
        let cases = [
            vec![Register { offset: 2, ..a }],
            vec![Register {
                offset: 0x1_0000,
                ..a
            }],
            vec![Register { reset: 0x100, ..a }],
            vec![a, Register { offset: 4, ..a }],
            vec![a, Register { name: "B", ..a }],
        ];
        for table in cases {
            assert!(validate(&table).is_err(), "{table:?}");
        }
    }

    #[test]
    fn vf_table_is_valid_and_read_only() {
        let t = vf::table();
        validate(&t).unwrap();
        assert_eq!(vf::ID.reset, vf::ID_VALUE);
        assert_eq!(t.len(), vf::TABLE.len() + pf::function::TABLE.len() - 1);
        for r in &t {
            assert!(!r.access.writable(), "{} writable from a VF", r.name);
            assert!(r.offset < vf::BAR_SIZE, "{}", r.name);
        }
        assert!(!t.iter().any(|r| r.name == "VNI"));
        let mtu = vf::function_register(&pf::function::MTU);
        assert_eq!((mtu.offset, mtu.access), (0x10c, Access::ReadOnly));
        // The VF port's address space (16 bits) holds every VF's window.
        assert!(vf::BAR_SIZE as usize * (pf::MAX_VFS + 1) <= 1 << ADDRESS_BITS);
    }

    #[test]
    fn document_lists_every_register() {
        let doc = document();
        for r in pf::TABLE {
            assert!(doc.contains(&format!("`{}`", r.name)), "{}", r.name);
        }
    }
}
