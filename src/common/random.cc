#include "common/random.h"

#include <unistd.h>

#include <random>

namespace signaldb {

uint64_t RandomU64() {
  struct State {
    pid_t pid = -1;
    std::mt19937_64 rng;
  };
  static thread_local State state;
  if (state.pid != ::getpid()) {
    std::random_device rd;
    std::seed_seq seed{rd(), rd(), rd(), rd()};
    state.rng.seed(seed);
    state.pid = ::getpid();
  }
  return state.rng();
}

}  // namespace signaldb
