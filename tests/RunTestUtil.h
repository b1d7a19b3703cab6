#pragma once
// Shared by the tests of runs on real workers (tst_liverun, tst_fleet, tst_cli, tst_gui): a
// value, rows or a column read from a run database, a file's lines, and a bounded wait for a
// condition.

#include "core/plan/Planner.h"

#include <QFile>
#include <QList>
#include <QString>

#include <sqlite3.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace edgent::test {

// The first column of the first row of `sql` in `db` (read-only), or -1.
inline double scalar(const std::string& db, const std::string& sql) {
    sqlite3* h = nullptr;
    double v = -1;
    if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_double(s, 0);
        sqlite3_finalize(s);
    }
    sqlite3_close(h);
    return v;
}

// Rows of one query on a read-only connection: each row's columns as text (NULL as "<null>").
inline std::vector<std::vector<QString>> query(const QString& db, const QString& sql) {
    std::vector<std::vector<QString>> rows;
    sqlite3* h = nullptr;
    if (sqlite3_open_v2(db.toUtf8().constData(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(h, sql.toUtf8().constData(), -1, &s, nullptr) == SQLITE_OK)
            while (sqlite3_step(s) == SQLITE_ROW) {
                std::vector<QString> row;
                for (int c = 0; c < sqlite3_column_count(s); ++c)
                    row.push_back(sqlite3_column_type(s, c) == SQLITE_NULL
                                      ? QStringLiteral("<null>")
                                      : QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(s, c))));
                rows.push_back(row);
            }
        sqlite3_finalize(s);
    }
    sqlite3_close(h);
    return rows;
}

// The first column of every row of one query, as a set.
inline std::set<QString> column(const QString& db, const QString& sql) {
    std::set<QString> out;
    for (const auto& r : query(db, sql)) out.insert(r[0]);
    return out;
}

// A text file's lines, without the last newline (none when it cannot be read).
inline QList<QByteArray> readLines(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll().trimmed().split('\n') : QList<QByteArray>{};
}

// Waits for a condition, at most timeoutMs.
template <typename F>
bool waitUntil(F f, int timeoutMs) {
    for (int waited = 0; waited < timeoutMs; waited += 20) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return f();
}

// A latency table made up for a test: every layer takes deviceMs on the device and edgeMs
// on the edge, plus overheadMs per message, so the right plan is known in advance.
inline core::plan::LatencyTable madeUpTable(const core::ModelSpec& spec, double deviceMs, double edgeMs, double overheadMs) {
    std::vector<std::vector<double>> device, edge;
    for (int e = 0; e < spec.numExits(); ++e) {
        device.emplace_back(static_cast<size_t>(spec.pathLength(e)), deviceMs);
        edge.emplace_back(static_cast<size_t>(spec.pathLength(e)), edgeMs);
    }
    return *core::plan::LatencyTable::fromLayerTimes(spec, device, edge, overheadMs);
}

}  // namespace edgent::test
