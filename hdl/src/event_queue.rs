//! The NIC → host event queue (lookup misses now; learn events with RX).
//!
//! The datapath pushes a record and never waits: when the queue is full the
//! record is counted in `lost` and dropped. A record equal to the newest
//! one still queued is merged into it, so a burst of frames to one unknown
//! MAC costs the host one event, not one per frame; once the host has
//! drained the queue, the same event is reported again.
//!
//! The host reads the oldest record through registers (`head`, all zeros,
//! kind 0, when empty) and discards it with `pop`.
//!
//! A pushed record is registered before it is compared and queued, so it
//! is counted (`count`, `lost`) two cycles after `push` rather than one: the
//! NIC picks the record among its sources (a TX miss, an RX learn event)
//! in the cycle it pushes, and the 160-bit compare with the newest record
//! then drove the FIFO's write and the level's enable in that same cycle
//! (15.5 ns in the ECP5 path model).

use rust_hdl::prelude::*;

/// One event as the host reads it.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct EventRecord {
    /// 0 none, 1 TX miss (`regmap::pf::event`).
    pub kind: Bits<8>,
    pub vni: Bits<24>,
    /// Inner MAC (first wire byte in 47:40).
    pub mac: Bits<48>,
    /// Remote VTEP (learn events; zero for misses).
    pub vtep_ip: Bits<32>,
    pub vtep_mac: Bits<48>,
}

/// Parameters: `DW` log2 of the depth, `DWP1` = `DW + 1`.
#[derive(LogicBlock)]
pub struct EventQueue<const DW: usize, const DWP1: usize> {
    pub clock: Signal<In, Clock>,
    /// Push `record` this cycle (`event` is a Verilog keyword).
    pub push: Signal<In, Bit>,
    pub record: Signal<In, EventRecord>,
    /// Discard the oldest record (ignored when empty).
    pub pop: Signal<In, Bit>,
    /// The oldest record, zeros when empty.
    pub head: Signal<Out, EventRecord>,
    /// Records waiting.
    pub count: Signal<Out, Bits<16>>,
    /// Records dropped because the queue was full (wraps).
    pub lost: Signal<Out, Bits<32>>,
    fifo: SynchronousFIFO<EventRecord, DW, DWP1, 1>,
    /// The pushed record, a cycle later.
    in_push: DFF<Bit>,
    in_rec: DFF<EventRecord>,
    newest: DFF<EventRecord>,
    level: DFF<Bits<16>>,
    lost_count: DFF<Bits<32>>,
    zero: Constant<EventRecord>,
    take: Signal<Local, Bit>,
    give: Signal<Local, Bit>,
    merge: Signal<Local, Bit>,
    shown: Signal<Local, EventRecord>,
}

impl<const DW: usize, const DWP1: usize> Default for EventQueue<DW, DWP1> {
    fn default() -> Self {
        assert_eq!(DWP1, DW + 1, "EventQueue: DWP1 must be DW + 1");
        assert!((1..=10).contains(&DW), "EventQueue: DW {DW} outside 1..=10");
        Self {
            clock: Default::default(),
            push: Default::default(),
            record: Default::default(),
            pop: Default::default(),
            head: Default::default(),
            count: Default::default(),
            lost: Default::default(),
            fifo: Default::default(),
            in_push: Default::default(),
            in_rec: Default::default(),
            newest: Default::default(),
            level: Default::default(),
            lost_count: Default::default(),
            zero: Constant::new(EventRecord::default()),
            take: Default::default(),
            give: Default::default(),
            merge: Default::default(),
            shown: Default::default(),
        }
    }
}

impl<const DW: usize, const DWP1: usize> Logic for EventQueue<DW, DWP1> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, in_push, in_rec, newest, level, lost_count);
        self.in_push.d.next = self.push.val();
        self.in_rec.d.next = self.record.val();
        clock!(self, clock, fifo);
        self.count.next = self.level.q.val();
        self.lost.next = self.lost_count.q.val();
        // The FIFO's RAM is undefined until written: show zeros when empty.
        // Worked out in a local and driven once: `head` loops back through
        // the register file and the NIC's kernel to `pop`, and a port
        // assigned twice glitches in event-driven simulators
        // (docs/rust-hdl-notes.md).
        self.shown.next = self.zero.val();
        if !self.fifo.empty.val() {
            self.shown.next = self.fifo.data_out.val();
        }
        self.head.next = self.shown.val();
        self.give.next = self.pop.val() & !self.fifo.empty.val();
        self.fifo.read.next = self.give.val();
        // Merging into a record the host is popping this very cycle would
        // lose the event.
        self.merge.next = (self.level.q.val() != 0)
            & (self.in_rec.q.val() == self.newest.q.val())
            & !(self.give.val() & (self.level.q.val() == 1));
        self.take.next = self.in_push.q.val() & !self.merge.val() & !self.fifo.full.val();
        self.fifo.write.next = self.take.val();
        self.fifo.data_in.next = self.in_rec.q.val();
        if self.take.val() {
            self.newest.d.next = self.in_rec.q.val();
        }
        if self.in_push.q.val() & !self.merge.val() & self.fifo.full.val() {
            self.lost_count.d.next = self.lost_count.q.val() + 1;
        }
        if self.take.val() & !self.give.val() {
            self.level.d.next = self.level.q.val() + 1;
        }
        if self.give.val() & !self.take.val() {
            self.level.d.next = self.level.q.val() - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_queue_is_synthesizable() {
        let mut uut = EventQueue::<4, 5>::default();
        uut.connect_all();
        yosys_validate("event_queue", &generate_verilog(&uut)).unwrap();
    }
}
