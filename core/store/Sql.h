#pragma once
// Internal to core/store: a RAII prepared statement with checked binding.

#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace edgent::core::store {

// A prepared statement; the first failing call's code sticks, so callers check once.
class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
    ~Stmt() { sqlite3_finalize(stmt_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    bool ok() const { return rc_ == SQLITE_OK; }
    std::string error() const { return sqlite3_errmsg(db_); }
    Stmt& bind(int i, int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
    Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
    Stmt& bind(int i, double v) { return check(std::isnan(v) ? sqlite3_bind_null(stmt_, i) : sqlite3_bind_double(stmt_, i, v)); }
    Stmt& bind(int i, const std::string& v) {
        return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    }
    Stmt& bindTextOrNull(int i, const std::string& v) { return v.empty() ? check(sqlite3_bind_null(stmt_, i)) : bind(i, v); }
    Stmt& bindNull(int i) { return check(sqlite3_bind_null(stmt_, i)); }
    int step() { return rc_ == SQLITE_OK ? sqlite3_step(stmt_) : rc_; }
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    int64_t i64(int c) const { return sqlite3_column_int64(stmt_, c); }
    bool isNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
    double f64(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt_, c); }
    std::string text(int c) const {
        const auto* t = sqlite3_column_text(stmt_, c);
        return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(stmt_, c)))
                 : std::string();
    }

private:
    Stmt& check(int rc) {
        if (rc != SQLITE_OK && rc_ == SQLITE_OK) rc_ = rc;
        return *this;
    }
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    int rc_ = SQLITE_OK;
};

// This host's name and whether a process of it is alive (a run's or fleet's owner).
std::string hostName();
bool processAlive(int64_t pid);

}  // namespace edgent::core::store
