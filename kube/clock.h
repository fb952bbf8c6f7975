// Time, randomness and waiting behind interfaces that tests replace.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <stop_token>

namespace bgpcomm::kube {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

// Wall-clock time; leases and events carry it, so it is the system clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// Waits between retries. Returns false when `stop` was requested before or during the
// wait (the caller then gives up), true after `duration` elapsed.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual bool SleepFor(Duration duration, std::stop_token stop) = 0;
};

class RealSleeper final : public Sleeper {
 public:
  bool SleepFor(Duration duration, std::stop_token stop) override {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    return !cv.wait_for(lock, stop, duration, [] { return false; }) && !stop.stop_requested();
  }
};

// Uniform doubles in [0, 1) for jitter.
class Random {
 public:
  virtual ~Random() = default;
  virtual double Uniform() = 0;
};

class RealRandom final : public Random {
 public:
  double Uniform() override {
    std::lock_guard lock(mu_);
    return dist_(engine_);
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_{std::random_device{}()};
  std::uniform_real_distribution<double> dist_{0.0, 1.0};
};

// Capped exponential backoff with jitter: the n-th delay is
// min(cap, initial * factor^n) * (1 + jitter * u), u uniform in [0, 1).
class Backoff {
 public:
  struct Options {
    Duration initial = std::chrono::milliseconds(800);
    Duration cap = std::chrono::seconds(30);
    double factor = 2.0;
    double jitter = 0.25;
  };
  Backoff(Options options, Random& random) : options_(options), random_(random) {}

  // The delay before the next attempt; each call doubles the base up to the cap.
  Duration Next() {
    auto base = std::min<Duration>(current_, options_.cap);
    if (current_ == Duration::zero()) base = options_.initial;
    current_ = std::min<Duration>(std::chrono::duration_cast<Duration>(base * options_.factor),
                                  options_.cap);
    double scale = 1.0 + options_.jitter * random_.Uniform();
    return std::chrono::duration_cast<Duration>(base * scale);
  }
  // Forgets past failures: the next delay is `initial` again.
  void Reset() { current_ = Duration::zero(); }

 private:
  Options options_;
  Random& random_;
  Duration current_ = Duration::zero();
};

}  // namespace bgpcomm::kube
