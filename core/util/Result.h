#pragma once
// Expected-or-error result used across core: a value, or one line saying what went wrong.

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace edgent::core {

struct Error {
    std::string message;
};

inline Error makeError(std::string message) { return Error{std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : value_(std::move(value)) {}
    Result(Error error) : error_(std::move(error.message)) {}

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }

    // Reading the value of an error is a programming error: it stops the process with the
    // error's text (in every build type), never reads garbage.
    const T& value() const& { return checked(); }
    T& value() & { return checked(); }
    T value() && { return std::move(checked()); }  // by value: safe on temporaries
    const T& operator*() const& { return checked(); }
    T& operator*() & { return checked(); }
    const T* operator->() const { return &checked(); }
    T* operator->() { return &checked(); }

    const std::string& error() const { return error_; }

private:
    const T& checked() const {
        if (!value_) misuse();
        return *value_;
    }
    T& checked() {
        if (!value_) misuse();
        return *value_;
    }
    [[noreturn]] void misuse() const {
        std::fprintf(stderr, "edgent: the value of a failed result was read; the error was: %s\n", error_.c_str());
        std::abort();
    }

    std::optional<T> value_;
    std::string error_;
};

// Result for operations that return nothing on success.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error error) : error_(std::move(error.message)), failed_(true) {}
    static Status success() { return {}; }

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const std::string& error() const { return error_; }

private:
    std::string error_;
    bool failed_ = false;
};

}  // namespace edgent::core
