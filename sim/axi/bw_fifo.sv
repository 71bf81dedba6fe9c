// bitweave RTL kernel: a small synchronous FIFO in registers (the DMA's row queues into and
// out of the arena, which the array's writes may hold back). The head is readable in the
// cycle it is counted; a push and a pop may share a cycle.
module bw_fifo #(
  parameter int W = 64,       // bits per entry
  parameter int DEPTH = 4     // entries (a power of two, >= 2)
) (
  input  logic                     clk,
  input  logic                     rst,     // also empties the queue
  input  logic                     push,    // ignored when full
  input  logic [W-1:0]             din,
  input  logic                     pop,     // ignored when empty
  output logic [W-1:0]             head,
  output logic [$clog2(DEPTH+1)-1:0] count
);
  localparam int AB = $clog2(DEPTH);
  if (DEPTH < 2 || (DEPTH & (DEPTH - 1)) != 0) begin : g_depth_check
    $error("bw_fifo: DEPTH must be a power of two >= 2");
  end
  logic [W-1:0] mem [DEPTH];
  logic [AB-1:0] rd, wr;
  logic do_push, do_pop;
  assign do_push = push && 32'(count) < DEPTH;
  assign do_pop = pop && count != 0;
  assign head = mem[rd];
  always_ff @(posedge clk) begin
    if (rst) begin
      rd <= '0;
      wr <= '0;
      count <= '0;
    end else begin
      if (do_push) begin
        mem[wr] <= din;
        wr <= wr + 1'b1;
      end
      if (do_pop) rd <= rd + 1'b1;
      count <= count + ($clog2(DEPTH+1))'(do_push) - ($clog2(DEPTH+1))'(do_pop);
    end
  end
endmodule
