// bitweave RTL kernel: the AXI4-Lite control slave with Vitis' ap_ctrl_hs block (UG1393,
// "RTL Kernels": control register at 0x00 with ap_start / ap_done / ap_idle / ap_ready, GIE
// 0x04, IER 0x08, ISR 0x0C, arguments from 0x10). The argument and status offsets come from
// host/array/axi-kernel.ts through the generated package.
//
// The write address and data channels are taken independently (AXI4-Lite lets them arrive
// in either order) and the register is written once both are held; a read answers the
// cycle after its address. ap_start is set by the host and cleared when the kernel takes
// the start; ap_done and ap_ready are cleared when the host reads the control register.
module bw_axil_ctrl #(
  parameter int ADDR_BITS = bitweave_array::AXI_CTRL_ADDR_BITS,  // control space address width
  parameter int NARGS = bitweave_array::AXI_NARGS                 // argument slots of 8 bytes from 0x10
) (
  input  logic                  clk,
  input  logic                  rst,
  // AXI4-Lite slave
  input  logic                  awvalid,
  output logic                  awready,
  input  logic [ADDR_BITS-1:0]  awaddr,
  input  logic                  wvalid,
  output logic                  wready,
  input  logic [31:0]           wdata,
  input  logic [3:0]            wstrb,
  output logic                  bvalid,
  input  logic                  bready,
  output logic [1:0]            bresp,
  input  logic                  arvalid,
  output logic                  arready,
  input  logic [ADDR_BITS-1:0]  araddr,
  output logic                  rvalid,
  input  logic                  rready,
  output logic [31:0]           rdata,
  output logic [1:0]            rresp,
  // the kernel
  output logic                  ap_start,   // held until `taken`
  input  logic                  taken,      // the kernel took the start (ap_ready)
  input  logic                  finished,   // pulse: the call is complete (ap_done)
  input  logic                  idle,
  output logic [NARGS*64-1:0]   args,       // slot i: the 64 bits at 0x10 + 8i
  input  logic [5*32-1:0]       status,     // read-only words at AXI_STATUS_CYCLES_LO + 4k
  output logic                  interrupt
);
  localparam int ARG0 = 'h10;
  localparam int ST0 = bitweave_array::AXI_STATUS_CYCLES_LO;

  logic aw_held, w_held;
  logic [ADDR_BITS-1:0] aw_q;
  logic [31:0] w_q;
  logic [3:0] s_q;
  logic done_r, ready_r, gie, ier, isr;

  assign awready = !aw_held && !bvalid;
  assign wready = !w_held && !bvalid;
  assign bresp = 2'b00;
  assign rresp = 2'b00;
  assign interrupt = gie && isr;

  logic [31:0] ctrl_word;
  assign ctrl_word = {28'd0, ready_r, idle, done_r, ap_start};

  // strobe-merged write of a 32-bit register
  function automatic logic [31:0] merge(input logic [31:0] old, input logic [31:0] d, input logic [3:0] s);
    merge = old;
    for (int b = 0; b < 4; b++) if (s[b]) merge[b*8 +: 8] = d[b*8 +: 8];
  endfunction

  logic do_write, ctrl_read;
  assign do_write = aw_held && w_held && !bvalid;
  assign ctrl_read = arvalid && arready && araddr == ADDR_BITS'(0);

  always_ff @(posedge clk) begin
    if (rst) begin
      aw_held <= 1'b0;
      w_held <= 1'b0;
      bvalid <= 1'b0;
      rvalid <= 1'b0;
      ap_start <= 1'b0;
      done_r <= 1'b0;
      ready_r <= 1'b0;
      gie <= 1'b0;
      ier <= 1'b0;
      isr <= 1'b0;
      args <= '0;
    end else begin
      if (awvalid && awready) begin aw_held <= 1'b1; aw_q <= awaddr; end
      if (wvalid && wready) begin w_held <= 1'b1; w_q <= wdata; s_q <= wstrb; end
      if (bvalid && bready) bvalid <= 1'b0;
      if (taken) ap_start <= 1'b0;
      if (finished) begin
        done_r <= 1'b1;
        ready_r <= 1'b1;
        if (ier) isr <= 1'b1;
      end else if (ctrl_read) begin
        done_r <= 1'b0;
        ready_r <= 1'b0;
      end
      if (do_write) begin
        aw_held <= 1'b0;
        w_held <= 1'b0;
        bvalid <= 1'b1;
        case (32'(aw_q))
          'h00: if (s_q[0] && w_q[0] && idle) ap_start <= 1'b1;
          'h04: if (s_q[0]) gie <= w_q[0];
          'h08: if (s_q[0]) ier <= w_q[0];
          'h0c: if (s_q[0] && w_q[0]) isr <= !isr;
          default:
            for (int i = 0; i < NARGS; i++) begin
              if (32'(aw_q) == ARG0 + 8 * i) args[i*64 +: 32] <= merge(args[i*64 +: 32], w_q, s_q);
              if (32'(aw_q) == ARG0 + 8 * i + 4) args[i*64 + 32 +: 32] <= merge(args[i*64 + 32 +: 32], w_q, s_q);
            end
        endcase
      end
      if (rvalid && rready) rvalid <= 1'b0;
      if (arvalid && arready) begin
        rvalid <= 1'b1;
        rdata <= '0;
        case (32'(araddr))
          'h00: rdata <= ctrl_word;
          'h04: rdata <= {31'd0, gie};
          'h08: rdata <= {31'd0, ier};
          'h0c: rdata <= {31'd0, isr};
          default: begin
            for (int i = 0; i < NARGS; i++) begin
              if (32'(araddr) == ARG0 + 8 * i) rdata <= args[i*64 +: 32];
              if (32'(araddr) == ARG0 + 8 * i + 4) rdata <= args[i*64 + 32 +: 32];
            end
            for (int k = 0; k < 5; k++) if (32'(araddr) == ST0 + 4 * k) rdata <= status[k*32 +: 32];
          end
        endcase
      end
    end
  end
  assign arready = !rvalid;
endmodule
