#pragma once
// The runs browser: every run of a run database in a table, one run's plots replayed, two
// runs compared side by side, and a run exported as CSV, JSON, SQLite, PDF or PNG.
//
// The database is only read. Everything that touches it (the run list, statistics, a
// replay, an export) runs on the global thread pool, each job on its own read-only
// connection, and reports back to the UI thread; the signals below say when it is done.

#include "core/store/RunStore.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QWidget>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

class QCustomPlot;
class QEvent;
class QLabel;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QTableWidget;
class QTableWidgetItem;

namespace edgent::widgets {

class RunsPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunsPanel(QWidget* parent = nullptr);
    ~RunsPanel() override;

    // The run database to browse; opened read-only (it may be written by a live run meanwhile,
    // it is WAL). An error goes to the status line and errorOccurred().
    void setDatabase(const QString& path);
    QString database() const;

    // The IDs of the runs selected in the table, top to bottom.
    QList<qint64> selectedRuns() const;
    // True while a run list, a replay or an export is being read or written.
    bool isBusy() const;

public Q_SLOTS:
    void refresh();              // re-reads the run list, keeping the selection
    void openRun(qint64 runId);  // replays its plots
    // Shows both runs' plots side by side with a table of their statistics.
    void compareRuns(qint64 leftRunId, qint64 rightRunId);
    // Writes one run to `path`: .csv, .json and .sqlite as the store exports them, .pdf and
    // .png as the replay's figure.
    void exportRun(qint64 runId, const QString& path);

Q_SIGNALS:
    void errorOccurred(const QString& message);
    void runsRefreshed(int runCount);
    void runOpened(qint64 runId);
    void runsCompared(qint64 leftRunId, qint64 rightRunId);
    void runExported(qint64 runId, const QString& path);

protected:
    void changeEvent(QEvent* event) override;

private:
    struct LoadedRun;
    using Loaded = std::pair<std::vector<LoadedRun>, std::string>;  // the runs, or an error

    // Reads runs for a replay or a figure export, on the calling thread. `wanted` holds each
    // run's ID with the sample count of its statistics already known (-1: none, -2: not
    // wanted); they are read again when the run has a different number of samples by now.
    static Loaded loadRuns(const std::string& path, const std::vector<std::pair<int64_t, int64_t>>& wanted);

    void populate(const std::vector<core::store::RunInfo>& runs);
    void startStats(const std::vector<core::store::RunInfo>& runs);
    void setRunStats(qint64 runId, const core::store::RunStats& stats);
    // Reads one run (replayed) or two (compared) in the background and shows them.
    void replay(const QList<qint64>& ids);
    void showRun(const LoadedRun& run);
    void showComparison(const LoadedRun& left, const LoadedRun& right);
    void openSelected();
    void exportSelected();
    void updateButtons();
    void setBusy(int delta);
    void setStatus(const QString& text);
    void fail(const QString& message);
    void clearViews();

    QString path_;
    QTableWidget* table_ = nullptr;
    QPushButton* refreshButton_ = nullptr;
    QPushButton* openButton_ = nullptr;
    QPushButton* compareButton_ = nullptr;
    QPushButton* exportButton_ = nullptr;
    QProgressBar* busyBar_ = nullptr;
    QLabel* status_ = nullptr;
    QTabWidget* views_ = nullptr;
    QCustomPlot* runPlot_ = nullptr;
    QCustomPlot* leftPlot_ = nullptr;
    QCustomPlot* rightPlot_ = nullptr;
    QTableWidget* compareTable_ = nullptr;

    QHash<qint64, QTableWidgetItem*> idCells_;        // the ID cell of each row (rows move when sorted)
    QHash<qint64, core::store::RunStats> stats_;      // per run, for the database on show
    std::shared_ptr<std::atomic<bool>> statsCancel_;  // stops the statistics job in flight
    quint64 listGeneration_ = 0, openGeneration_ = 0, compareGeneration_ = 0;
    int busy_ = 0;
    QString exportDir_;  // where the last export went
};

}  // namespace edgent::widgets
