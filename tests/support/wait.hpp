#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace offers::test {

// Polls condition every few milliseconds until it holds or the deadline passes; returns whether
// it held. Every wait in the tests goes through here: a condition and a deadline, never a bare
// sleep.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds poll = std::chrono::milliseconds(20));

}  // namespace offers::test
