/*
 * A minimal stand-in for Vitis HLS's hls::stream, used only when <hls_stream.h> is not
 * available (plain g++ C-simulation; see bw_stream.h). Same interface subset the kernel
 * uses: write / read / empty / size / operator<< / operator>>, read_nb / write_nb.
 * Like the real class under C-simulation it is an unbounded FIFO: dataflow processes run
 * one after the other, so a producer finishes before its consumer starts. Reading an
 * empty stream is a kernel bug; it aborts with a message instead of reading garbage.
 */
#ifndef BW_HLS_STREAM_SIM_H
#define BW_HLS_STREAM_SIM_H

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

namespace hls {

template <typename T>
class stream {
 public:
  stream() : name_("stream") {}
  explicit stream(const char *name) : name_(name) {}
  stream(const stream &) = delete;
  stream &operator=(const stream &) = delete;

  void write(const T &v) { q_.push_back(v); }
  T read() {
    if (q_.empty()) {
      std::fprintf(stderr, "hls::stream '%s': read from an empty stream (kernel bug)\n", name_.c_str());
      std::abort();
    }
    T v = q_.front();
    q_.pop_front();
    return v;
  }
  void read(T &v) { v = read(); }
  bool read_nb(T &v) {
    if (q_.empty()) return false;
    v = read();
    return true;
  }
  bool write_nb(const T &v) {
    write(v);
    return true;
  }
  bool empty() const { return q_.empty(); }
  bool full() const { return false; }
  size_t size() const { return q_.size(); }
  stream &operator<<(const T &v) {
    write(v);
    return *this;
  }
  stream &operator>>(T &v) {
    read(v);
    return *this;
  }

 private:
  std::deque<T> q_;
  std::string name_;
};

}  // namespace hls

#endif
