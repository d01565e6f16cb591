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
    out.push_str(&markdown("PF BAR0", pf::TABLE));
    out
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
        /// Outer IPv4: TTL in 7:0, DF in bit 8.
        OUTER_IP @ 0x0038 : ReadWrite = 0x00000140, mask 0x000001ff;
        /// Outer 802.1Q tag: enable in bit 16, PCP in 15:13, VID in 11:0.
        OUTER_VLAN @ 0x003c : ReadWrite = 0x00000000, mask 0x0001efff;
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
    fn document_lists_every_register() {
        let doc = document();
        for r in pf::TABLE {
            assert!(doc.contains(&format!("`{}`", r.name)), "{}", r.name);
        }
    }
}
