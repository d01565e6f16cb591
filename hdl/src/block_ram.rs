//! Simple dual-port block RAM, zero-initialised.
//!
//! rust-hdl's own `RAM` leaves memory uninitialised in Verilog while its
//! simulation reads zeros, so the two disagree until every word is written
//! (X in iverilog, 0 in Rust). This RAM starts at zero in both: the Verilog
//! carries an `initial` loop, which yosys turns into BRAM init values.
//! One write port, one registered read port, one clock.
//!
//! Reading the address being written in the same cycle is undefined on the
//! FPGA: the memory is marked `no_rw_check`, which saves yosys's bypass logic
//! (on iCE40, 157 flip-flops and 80 LUTs for a 512x73 RAM). Users must never
//! do it; the simulation counts such collisions ([`BlockRam::collisions`]) so
//! tests can assert there were none. `read_data` is undefined (X in Verilog)
//! until the first clock edge, since an initial value on it costs a LUT per bit.

use rust_hdl::core::timing::TimingInfo;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct BlockRam<D: Synth, const N: usize> {
    pub clock: Signal<In, Clock>,
    pub read_address: Signal<In, Bits<N>>,
    /// Read this cycle; `read_data` holds its value otherwise.
    pub read_enable: Signal<In, Bit>,
    /// The word at `read_address` at the last clock edge with `read_enable`.
    pub read_data: Signal<Out, D>,
    pub write_address: Signal<In, Bits<N>>,
    pub write_data: Signal<In, D>,
    pub write_enable: Signal<In, Bit>,
    _mem: Vec<D>,
    _collisions: u64,
}

impl<D: Synth, const N: usize> Default for BlockRam<D, N> {
    fn default() -> Self {
        assert!(
            N > 0 && N <= 20,
            "BlockRam address width {N} out of range 1..=20"
        );
        Self {
            clock: Default::default(),
            read_address: Default::default(),
            read_enable: Default::default(),
            read_data: Default::default(),
            write_address: Default::default(),
            write_data: Default::default(),
            write_enable: Default::default(),
            _mem: vec![D::default(); 1 << N],
            _collisions: 0,
        }
    }
}

impl<D: Synth, const N: usize> BlockRam<D, N> {
    /// Clock edges so far at which a write and an enabled read hit the same
    /// address (undefined on hardware, so a design bug).
    pub fn collisions(&self) -> u64 {
        self._collisions
    }
}

impl<D: Synth, const N: usize> Logic for BlockRam<D, N> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.read_enable.val() {
                if self.write_enable.val() && self.write_address.val() == self.read_address.val() {
                    self._collisions += 1;
                }
                self.read_data.next = self._mem[self.read_address.val().index()];
            }
            if self.write_enable.val() {
                self._mem[self.write_address.val().index()] = self.write_data.val();
            }
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "\
(* no_rw_check *) reg [{msb}:0] mem [0:{last}];
integer i;

initial begin
   for (i = 0; i <= {last}; i = i + 1) mem[i] = {width}'d0;
end

always @(posedge clock) begin
   if (read_enable) begin
      read_data <= mem[read_address];
   end
   if (write_enable) begin
      mem[write_address] <= write_data;
   end
end
",
            msb = D::BITS - 1,
            last = (1usize << N) - 1,
            width = D::BITS,
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "block_ram".into(),
            clock: "clock".into(),
            inputs: vec![
                "read_address".into(),
                "read_enable".into(),
                "write_address".into(),
                "write_data".into(),
                "write_enable".into(),
            ],
            outputs: vec!["read_data".into()],
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ram_is_synthesizable() {
        let mut uut = BlockRam::<Bits<73>, 8>::default();
        uut.connect_all();
        yosys_validate("block_ram", &generate_verilog(&uut)).unwrap();
    }
}
