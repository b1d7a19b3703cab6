#include "widgets/RunsPanel.h"
#include "widgets/Tables.h"

#include "core/store/Export.h"
#include "widgets/RunPlots.h"

#include <qcustomplot.h>

#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QStyle>
#include <QTabWidget>
#include <QTableWidget>
#include <QThreadPool>
#include <QVBoxLayout>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <tuple>
#include <unordered_map>

namespace edgent::widgets {

namespace store = core::store;
using store::RunInfo;
using store::RunStats;
using store::RunStore;

struct RunsPanel::LoadedRun {
    RunInfo info;
    RunFigure figure;
    std::optional<RunStats> stats;  // read when the panel had none for this many samples
};

namespace {

constexpr int kRunIdRole = Qt::UserRole;     // on every cell of a row
constexpr int kSortRole = Qt::UserRole + 1;  // the number a cell sorts by, when it has one
constexpr int64_t kNoStats = -2;             // a replay that needs no statistics (an export)

enum Column {
    ColId,
    ColStatus,
    ColStarted,
    ColExperiment,
    ColPolicy,
    ColExit,
    ColPartition,
    ColBandwidth,
    ColDeadline,
    ColSamples,
    ColAccuracy,
    ColP50,
    ColumnCount
};

const QString kNone = QStringLiteral("\u2013");

QString qs(const std::string& s) { return QString::fromStdString(s); }

template <typename W>
W* named(W* widget, const char* name) {
    widget->setObjectName(QLatin1String(name));
    return widget;
}

// A cell that sorts by its number when it has one (IDs, bandwidths, latencies), by text otherwise.
class Cell : public QTableWidgetItem {
public:
    explicit Cell(const QString& text, double key = NAN) : QTableWidgetItem(text) {
        setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
        setKey(key);
    }
    void setKey(double key) {
        setData(kSortRole, std::isnan(key) ? QVariant() : QVariant(key));
        if (!std::isnan(key)) setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem& other) const override {
        const QVariant a = data(kSortRole), b = other.data(kSortRole);
        if (a.isValid() && b.isValid()) return a.toDouble() < b.toDouble();
        if (a.isValid() != b.isValid()) return b.isValid();  // blanks first
        return QTableWidgetItem::operator<(other);
    }
};

std::optional<double> numericParam(const RunInfo& run, const char* key) {
    const auto it = run.params.find(key);
    bool ok = false;
    const double value = it == run.params.end() ? 0.0 : qs(it->second).toDouble(&ok);
    return ok ? std::optional<double>(value) : std::nullopt;
}

QString bandwidthText(double bps) {
    int unit = 0;
    for (; unit < 3 && bps >= 1000.0; ++unit) bps /= 1000.0;
    return QStringLiteral("%1 %2").arg(bps, 0, 'g', 4).arg(QLatin1String(std::array{"bps", "kbps", "Mbps", "Gbps"}[unit]));
}

QString msText(double ms) { return QStringLiteral("%1 ms").arg(ms, 0, 'f', std::fabs(ms) < 10 ? 2 : 1); }

// Calls `f` with the panel on the UI thread, through the application object, which outlives
// every panel; not at all when the panel has been destroyed meanwhile.
template <typename F>
void post(const QPointer<RunsPanel>& guard, F f) {
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [guard, f]() {
            if (guard) f(*guard);
        },
        Qt::QueuedConnection);
}

// Runs `work` on the global thread pool and hands its result to `done` on the UI thread.
template <typename Work, typename Done>
void inBackground(RunsPanel* panel, Work work, Done done) {
    QThreadPool::globalInstance()->start([guard = QPointer<RunsPanel>(panel), work, done]() {
        auto result = std::make_shared<decltype(work())>(work());
        post(guard, [done, result](RunsPanel& self) { done(self, *result); });
    });
}

// The figures' default colours taken from the palette: background, axes, text, legend, and
// the black of the measured latency.
void applyPalette(QCustomPlot& plot) {
    const QPalette pal = plot.palette();
    const QColor text = pal.color(QPalette::Text);
    plot.setBackground(pal.brush(QPalette::Base));
    for (auto* axis : plot.findChildren<QCPAxis*>()) {
        for (auto setPen : {&QCPAxis::setBasePen, &QCPAxis::setTickPen, &QCPAxis::setSubTickPen}) (axis->*setPen)(QPen(text));
        for (auto setColor : {&QCPAxis::setLabelColor, &QCPAxis::setTickLabelColor}) (axis->*setColor)(text);
    }
    for (auto* element : plot.plotLayout()->elements(true)) {
        if (auto* title = qobject_cast<QCPTextElement*>(element)) title->setTextColor(text);
        if (auto* item = qobject_cast<QCPAbstractLegendItem*>(element)) item->setTextColor(text);
        if (auto* legend = qobject_cast<QCPLegend*>(element)) {
            legend->setBrush(pal.brush(QPalette::Base));
            legend->setBorderPen(QPen(text));
            legend->setTextColor(text);
        }
    }
    for (int i = 0; i < plot.itemCount(); ++i)
        if (auto* note = qobject_cast<QCPItemText*>(plot.item(i))) note->setColor(text);
    for (int i = 0; i < plot.graphCount(); ++i)
        if (QCPGraph* g = plot.graph(i); g->pen().color() == QColor(Qt::black) || g->property("paletteText").toBool()) {
            g->setPen(QPen(text, g->pen().widthF(), g->pen().style()));
            g->setProperty("paletteText", true);
        }
}

// Draws a figure, or a message when there is none, on a plot used before.
void showOnPlot(QCustomPlot& plot, const RunFigure* figure, const QString& message = QString()) {
    plot.clearPlottables();
    plot.clearItems();
    plot.plotLayout()->clear();
    for (auto* group : plot.findChildren<QCPMarginGroup*>(QString(), Qt::FindDirectChildrenOnly)) delete group;
    if (figure)
        drawRunFigure(plot, *figure);
    else
        plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, message));
    applyPalette(plot);
    plot.replot();
}

}  // namespace

RunsPanel::Loaded RunsPanel::loadRuns(const std::string& path, const std::vector<std::pair<int64_t, int64_t>>& wanted) {
    std::vector<LoadedRun> out;
    auto db = RunStore::open(path, RunStore::Mode::ReadOnly);
    if (!db) return {std::move(out), db.error()};
    for (const auto& [id, knownSamples] : wanted) {
        auto info = (*db)->run(id);
        auto samples = info ? (*db)->samples(id) : core::makeError(info.error());
        auto events = samples ? (*db)->events(id) : core::makeError(samples.error());
        if (!events) return {std::move(out), events.error()};
        LoadedRun r{std::move(*info), RunFigure{QStringLiteral("run %1").arg(id), std::move(*samples), std::move(*events)}, {}};
        if (const auto deadline = numericParam(r.info, "deadline_ms"); deadline && *deadline > 0) r.figure.deadlineMs = *deadline;
        if (knownSamples != kNoStats && knownSamples != static_cast<int64_t>(r.figure.samples.size())) {
            auto stats = (*db)->stats(id);
            if (!stats) return {std::move(out), stats.error()};
            r.stats = *stats;
        }
        out.push_back(std::move(r));
    }
    return {std::move(out), std::string()};
}

RunsPanel::RunsPanel(QWidget* parent) : QWidget(parent) {
    auto* buttons = new QHBoxLayout;
    auto button = [&](const QString& text, const char* name, const QString& tip, auto slot) {
        auto* b = named(new QPushButton(text, this), name);
        b->setToolTip(tip);
        connect(b, &QPushButton::clicked, this, slot);
        buttons->addWidget(b);
        return b;
    };
    refreshButton_ = button(tr("Refresh"), "refreshRunsButton", tr("Read the run list again"), &RunsPanel::refresh);
    openButton_ = button(tr("Open"), "openRunButton", tr("Replay the selected run's plots"), &RunsPanel::openSelected);
    compareButton_ = button(tr("Compare"), "compareButton", tr("Compare two selected runs side by side"), [this] {
        if (const auto ids = selectedRuns(); ids.size() == 2) compareRuns(std::min(ids[0], ids[1]), std::max(ids[0], ids[1]));
    });
    exportButton_ = button(tr("Export\u2026"), "exportRunButton", tr("Save the selected run as CSV, JSON, SQLite, PDF or PNG"),
                           &RunsPanel::exportSelected);
    buttons->addStretch(1);
    busyBar_ = named(new QProgressBar(this), "runsBusy");
    busyBar_->setRange(0, 0);  // busy, no progress
    busyBar_->setMaximumWidth(140);
    busyBar_->hide();
    buttons->addWidget(busyBar_);

    table_ = named(new QTableWidget(0, ColumnCount, this), "runsTable");
    table_->setHorizontalHeaderLabels({tr("ID"), tr("Status"), tr("Started"), tr("Experiment"), tr("Policy"), tr("Exit"),
                                       tr("Partition"), tr("Bandwidth"), tr("Deadline"), tr("Samples"), tr("Accuracy"),
                                       tr("p50 latency")});
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setAlternatingRowColors(true);
    table_->setWordWrap(false);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setSortIndicator(ColId, Qt::DescendingOrder);
    table_->setSortingEnabled(true);
    connect(table_, &QTableWidget::itemDoubleClicked, this,
            [this](QTableWidgetItem* item) { openRun(item->data(kRunIdRole).toLongLong()); });
    connect(table_, &QTableWidget::itemSelectionChanged, this, &RunsPanel::updateButtons);

    views_ = new QTabWidget(this);
    runPlot_ = named(new QCustomPlot(views_), "runPlot");
    views_->addTab(runPlot_, tr("Run"));
    auto* comparePage = new QSplitter(Qt::Vertical, views_);
    auto* plots = new QSplitter(Qt::Horizontal, comparePage);
    leftPlot_ = named(new QCustomPlot(plots), "compareLeftPlot");
    rightPlot_ = named(new QCustomPlot(plots), "compareRightPlot");
    for (auto* plot : {runPlot_, leftPlot_, rightPlot_}) plot->setMinimumSize(320, 260);
    plots->setSizes({1000, 1000});
    compareTable_ = named(new QTableWidget(0, 3, comparePage), "compareStats");
    compareTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    compareTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    comparePage->setSizes({3000, 1000});  // in proportion
    views_->addTab(comparePage, tr("Comparison"));

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(table_);
    split->addWidget(views_);
    split->setStretchFactor(1, 2);
    status_ = named(new QLabel(tr("No run database."), this), "runsStatus");
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    status_->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(split, 1);
    layout->addWidget(status_);
    clearViews();
    updateButtons();
}

RunsPanel::~RunsPanel() {
    if (statsCancel_) statsCancel_->store(true);
}

void RunsPanel::setDatabase(const QString& path) {
    path_ = path;
    ++listGeneration_, ++openGeneration_, ++compareGeneration_;  // results still coming are for the old file
    startStats({});                                              // stops the one in flight
    stats_.clear();
    idCells_.clear();
    table_->setRowCount(0);
    clearViews();
    updateButtons();
    if (path_.isEmpty())
        setStatus(tr("No run database."));
    else
        refresh();
}

QString RunsPanel::database() const { return path_; }

QList<qint64> RunsPanel::selectedRuns() const {
    QList<QModelIndex> rows = table_->selectionModel()->selectedRows(ColId);
    std::sort(rows.begin(), rows.end(), [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
    QList<qint64> ids;
    for (const auto& index : rows) ids << index.data(kRunIdRole).toLongLong();
    return ids;
}

bool RunsPanel::isBusy() const { return busy_ > 0; }

void RunsPanel::refresh() {
    if (path_.isEmpty()) return setStatus(tr("No run database."));
    const quint64 generation = ++listGeneration_;
    const QString name = QFileInfo(path_).fileName();
    setBusy(+1);
    setStatus(tr("Reading the runs in %1\u2026").arg(name));
    auto work = [path = path_.toStdString()]() {
        auto db = RunStore::open(path, RunStore::Mode::ReadOnly);
        return db ? (*db)->listRuns() : core::makeError(db.error());
    };
    inBackground(this, work, [generation, name](RunsPanel& self, core::Result<std::vector<RunInfo>>& runs) {
        self.setBusy(-1);
        if (generation != self.listGeneration_) return;  // a newer refresh, or another database
        if (!runs) return self.fail(tr("Cannot read the run list: %1").arg(qs(runs.error())));
        self.populate(*runs);
        self.startStats(*runs);
        self.setStatus(runs->size() == 1 ? tr("1 run in %1.").arg(name) : tr("%1 runs in %2.").arg(runs->size()).arg(name));
        Q_EMIT self.runsRefreshed(static_cast<int>(runs->size()));
    });
}

void RunsPanel::populate(const std::vector<RunInfo>& runs) {
    const QList<qint64> selected = selectedRuns();
    const QTableWidgetItem* current = table_->currentItem();
    const qint64 currentId = current ? current->data(kRunIdRole).toLongLong() : -1;
    const int currentColumn = current ? current->column() : ColId, scroll = table_->verticalScrollBar()->value();
    const bool hadRows = table_->rowCount() > 0;
    QItemSelection selection;
    const QSignalBlocker block(table_);
    table_->setSortingEnabled(false);
    table_->clearContents();
    table_->setRowCount(static_cast<int>(runs.size()));
    idCells_.clear();
    const QIcon warning = style()->standardIcon(QStyle::SP_MessageBoxWarning);
    for (int row = 0; row < static_cast<int>(runs.size()); ++row) {
        const RunInfo& r = runs[static_cast<size_t>(row)];
        const bool troubled = r.status == "failed" || r.status == "interrupted";
        const QString tip = r.error.empty() ? (troubled ? qs(r.status) : QString()) : tr("%1: %2").arg(qs(r.status), qs(r.error));
        auto put = [&](int column, const QString& text, double key = NAN) {
            auto* cell = new Cell(text, key);
            cell->setData(kRunIdRole, static_cast<qint64>(r.id));
            cell->setToolTip(tip);
            table_->setItem(row, column, cell);
            return cell;
        };
        idCells_.insert(r.id, put(ColId, QString::number(r.id), static_cast<double>(r.id)));
        put(ColStatus, qs(r.status))->setIcon(troubled ? warning : QIcon());
        put(ColStarted, qs(r.startedAt).left(19).replace(QLatin1Char('T'), QLatin1Char(' ')));  // the recorder's wall time
        put(ColExperiment, qs(r.experiment));
        put(ColPolicy, qs(r.policy));
        const auto exit = numericParam(r, "exit"), partition = numericParam(r, "partition");
        const auto bps = numericParam(r, "bandwidth_bps"), deadline = numericParam(r, "deadline_ms");
        put(ColExit, exit ? QString::number(*exit) : kNone, exit.value_or(NAN));
        put(ColPartition, partition ? QString::number(*partition) : kNone, partition.value_or(NAN));
        put(ColBandwidth, bps ? bandwidthText(*bps) : kNone, bps.value_or(NAN));
        put(ColDeadline, deadline && *deadline > 0 ? QStringLiteral("%1 ms").arg(*deadline) : kNone, deadline.value_or(NAN));
        put(ColSamples, QLocale().toString(static_cast<qlonglong>(r.sampleCount)), static_cast<double>(r.sampleCount));
        put(ColAccuracy, QString());
        put(ColP50, QString());
        if (const auto it = stats_.constFind(r.id); it != stats_.constEnd()) setRunStats(r.id, *it);
        if (selected.contains(r.id))
            selection.select(table_->model()->index(row, 0), table_->model()->index(row, ColumnCount - 1));
        if (r.id == currentId)
            table_->selectionModel()->setCurrentIndex(table_->model()->index(row, currentColumn), QItemSelectionModel::NoUpdate);
    }
    table_->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
    table_->setSortingEnabled(true);  // sorts by the header's column and order; the selection moves along
    table_->verticalScrollBar()->setValue(scroll);
    if (!hadRows) fitColumns(table_, ColExperiment);  // later, the widths the user chose stay
    updateButtons();
}

void RunsPanel::startStats(const std::vector<RunInfo>& runs) {
    if (statsCancel_) statsCancel_->store(true);
    statsCancel_.reset();
    std::vector<int64_t> ids;  // newest first; a run's statistics are read again when it has more samples
    for (auto it = runs.rbegin(); it != runs.rend(); ++it)
        if (it->sampleCount == 0)
            setRunStats(it->id, RunStats{});
        else if (!stats_.contains(it->id) || stats_.value(it->id).samples != it->sampleCount)
            ids.push_back(it->id);
    if (ids.empty()) return;
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    statsCancel_ = cancel;
    // One job for all of them, queued behind replays and exports, and stopped by a new run
    // list, another database or the panel's end.
    QThreadPool::globalInstance()->start(
        [guard = QPointer<RunsPanel>(this), cancel, ids, path = path_.toStdString()]() {
            auto db = RunStore::open(path, RunStore::Mode::ReadOnly);
            if (!db) return;  // the run list says why
            for (const int64_t id : ids) {
                if (cancel->load()) return;
                auto stats = (*db)->stats(id);
                if (!stats) continue;  // the row stays blank; opening the run reports the error
                post(guard, [cancel, id, value = *stats](RunsPanel& self) {
                    if (!cancel->load()) self.setRunStats(id, value);
                });
            }
        },
        -1);
}

void RunsPanel::setRunStats(qint64 runId, const RunStats& stats) {
    stats_.insert(runId, stats);
    const int row = idCells_.contains(runId) ? idCells_.value(runId)->row() : -1;
    const bool any = stats.samples > 0;
    auto update = [&](int column, const QString& text, double key) {
        if (auto* cell = dynamic_cast<Cell*>(table_->item(row, column))) {
            cell->setKey(any ? key : NAN);
            cell->setText(any ? text : kNone);
        }
    };
    update(ColAccuracy, QStringLiteral("%1 %").arg(stats.accuracy * 100.0, 0, 'f', 1), stats.accuracy);
    update(ColP50, msText(stats.latencyMsP50), stats.latencyMsP50);
}

void RunsPanel::openRun(qint64 runId) { replay({runId}); }

void RunsPanel::compareRuns(qint64 leftRunId, qint64 rightRunId) { replay({leftRunId, rightRunId}); }

void RunsPanel::replay(const QList<qint64>& ids) {
    const bool single = ids.size() == 1;
    const QString what = single ? tr("run %1").arg(ids[0]) : tr("runs %1 and %2").arg(ids[0]).arg(ids[1]);
    const QString failure = single ? tr("Cannot open %1: %2") : tr("Cannot compare %1: %2");
    if (path_.isEmpty()) return fail(failure.arg(what, tr("no run database is set.")));
    const quint64 generation = single ? ++openGeneration_ : ++compareGeneration_;
    std::vector<std::pair<int64_t, int64_t>> wanted;  // with the sample count of the statistics known
    for (const qint64 id : ids) wanted.emplace_back(id, stats_.contains(id) ? stats_.value(id).samples : -1);
    setBusy(+1);
    setStatus(tr("Reading %1\u2026").arg(what));
    auto work = [path = path_.toStdString(), wanted]() { return loadRuns(path, wanted); };
    inBackground(this, work, [generation, single, what, failure](RunsPanel& self, Loaded& loaded) {
        self.setBusy(-1);
        if (generation != (single ? self.openGeneration_ : self.compareGeneration_)) return;
        if (!loaded.second.empty()) return self.fail(failure.arg(what, qs(loaded.second)));
        for (const auto& run : loaded.first)
            if (run.stats) self.setRunStats(run.info.id, *run.stats);
        if (single)
            self.showRun(loaded.first.at(0));
        else
            self.showComparison(loaded.first.at(0), loaded.first.at(1));
    });
}

void RunsPanel::showRun(const LoadedRun& run) {
    showOnPlot(*runPlot_, &run.figure);
    views_->setCurrentWidget(runPlot_);
    const auto samples = static_cast<qlonglong>(run.figure.samples.size());
    setStatus(tr("Run %1 replayed: %2 samples.").arg(run.info.id).arg(QLocale().toString(samples)));
    Q_EMIT runOpened(run.info.id);
}

void RunsPanel::showComparison(const LoadedRun& left, const LoadedRun& right) {
    showOnPlot(*leftPlot_, &left.figure);
    showOnPlot(*rightPlot_, &right.figure);
    const RunStats a = stats_.value(left.info.id), b = stats_.value(right.info.id);
    const std::vector<std::tuple<QString, double RunStats::*, const char*>> metrics{
        {tr("accuracy"), &RunStats::accuracy, " %"},  // in percent; the difference in points
        {tr("p50 latency"), &RunStats::latencyMsP50, " ms"},
        {tr("p95 latency"), &RunStats::latencyMsP95, " ms"},
        {tr("mean device time"), &RunStats::deviceMsMean, " ms"},
        {tr("mean transfer time"), &RunStats::transferMsMean, " ms"},
        {tr("mean edge time"), &RunStats::edgeMsMean, " ms"},
        {tr("mean energy"), &RunStats::energyMjMean, " mJ"},
        {tr("mean predicted latency"), &RunStats::predictedMsMean, " ms"},
    };
    compareTable_->clearContents();
    compareTable_->setRowCount(static_cast<int>(metrics.size()) + 1);
    compareTable_->setHorizontalHeaderLabels({tr("run %1").arg(left.info.id), tr("run %1").arg(right.info.id),
                                              tr("difference (%1 \u2212 %2)").arg(right.info.id).arg(left.info.id)});
    auto put = [this](int row, const QStringList& texts) {
        for (int column = 0; column < 3; ++column) {
            auto* cell = new QTableWidgetItem(texts.at(column));
            cell->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            compareTable_->setItem(row, column, cell);
        }
    };
    const QLocale l;
    const qlonglong more = b.samples - a.samples;
    put(0, {l.toString(qlonglong(a.samples)), l.toString(qlonglong(b.samples)),
            (more >= 0 ? QStringLiteral("+") : QString()) + l.toString(more)});
    QStringList names{tr("samples")};
    auto text = [](double v, const QString& unit, bool sign) {
        if (std::isnan(v)) return kNone;
        return (sign && v >= 0 ? QStringLiteral("+") : QString()) + QString::number(v, 'f', 2) + unit;
    };
    for (const auto& [name, field, unit] : metrics) {
        const double scale = field == &RunStats::accuracy ? 100.0 : 1.0;
        // A run without samples has no statistics: blank, not zero.
        const double x = a.samples > 0 ? a.*field * scale : NAN, y = b.samples > 0 ? b.*field * scale : NAN;
        const QString u = QLatin1String(unit), du = field == &RunStats::accuracy ? tr(" points") : u;
        put(static_cast<int>(names.size()), {text(x, u, false), text(y, u, false), text(y - x, du, true)});
        names << name;
    }
    compareTable_->setVerticalHeaderLabels(names);
    views_->setCurrentIndex(1);
    setStatus(tr("Run %1 compared with run %2.").arg(left.info.id).arg(right.info.id));
    Q_EMIT runsCompared(left.info.id, right.info.id);
}

void RunsPanel::exportRun(qint64 runId, const QString& path) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    const bool data = suffix == "csv" || suffix == "json" || suffix == "sqlite";
    if (path_.isEmpty()) return fail(tr("Could not export run %1: no run database is set.").arg(runId));
    if (!data && suffix != "pdf" && suffix != "png")
        return fail(tr("Could not export run %1: %2 does not end in .csv, .json, .sqlite, .pdf or .png.").arg(runId).arg(path));
    setBusy(+1);
    setStatus(tr("Exporting run %1 to %2\u2026").arg(runId).arg(QDir::toNativeSeparators(path)));
    // Data files are written in the background. For a figure the samples are read there and
    // the figure is drawn here, since QCustomPlot is a widget.
    auto work = [db = path_.toStdString(), out = path.toStdString(), runId, data]() {
        if (!data) return loadRuns(db, {{runId, kNoStats}});
        auto store = RunStore::open(db, RunStore::Mode::ReadOnly);
        const auto written = store ? store::exportRun(**store, runId, out) : core::Status(core::makeError(store.error()));
        return Loaded{{}, written ? std::string() : written.error()};
    };
    inBackground(this, work, [runId, path](RunsPanel& self, Loaded& done) {
        std::string error = done.second;
        if (error.empty() && !done.first.empty())
            if (auto saved = saveRunFigure(done.first[0].figure, path); !saved) error = saved.error();
        self.setBusy(-1);
        if (!error.empty()) return self.fail(tr("Could not export run %1: %2").arg(runId).arg(qs(error)));
        self.setStatus(tr("run %1 exported to %2").arg(runId).arg(QDir::toNativeSeparators(path)));
        Q_EMIT self.runExported(runId, path);
    });
}

void RunsPanel::openSelected() {
    const QList<qint64> ids = selectedRuns();  // the current row when it is one of them, else the first
    const QTableWidgetItem* current = table_->currentItem();
    if (!ids.isEmpty()) openRun(current && current->isSelected() ? current->data(kRunIdRole).toLongLong() : ids.front());
}

void RunsPanel::exportSelected() {
    const QList<qint64> ids = selectedRuns();
    if (ids.size() != 1) return;
    const QStringList filters{tr("CSV (*.csv)"), tr("JSON (*.json)"), tr("SQLite (*.sqlite)"), tr("PDF (*.pdf)"),
                              tr("PNG (*.png)")};
    QString filter = filters[0];
    const QString dir = exportDir_.isEmpty() ? QFileInfo(path_).absolutePath() : exportDir_;
    QString out =
        QFileDialog::getSaveFileName(this, tr("Export run %1").arg(ids[0]),
                                     QDir(dir).filePath(QStringLiteral("run-%1.csv").arg(ids[0])), filters.join(";;"), &filter);
    if (out.isEmpty()) return;
    if (QFileInfo(out).suffix().isEmpty()) out += filter.mid(filter.indexOf(QLatin1String("*.")) + 1).chopped(1);  // ".csv"
    exportDir_ = QFileInfo(out).absolutePath();
    exportRun(ids[0], out);
}

void RunsPanel::updateButtons() {
    const auto selected = selectedRuns().size();
    refreshButton_->setEnabled(!path_.isEmpty());
    openButton_->setEnabled(selected >= 1);
    compareButton_->setEnabled(selected == 2);
    exportButton_->setEnabled(selected == 1);
}

void RunsPanel::setBusy(int delta) {
    busy_ = std::max(0, busy_ + delta);
    busyBar_->setVisible(busy_ > 0);
}

void RunsPanel::setStatus(const QString& text) { status_->setText(text); }

void RunsPanel::fail(const QString& message) {
    setStatus(message);
    Q_EMIT errorOccurred(message);
}

void RunsPanel::clearViews() {
    showOnPlot(*runPlot_, nullptr, tr("Double-click a run, or select it and press Open, to replay its plots."));
    showOnPlot(*leftPlot_, nullptr, tr("Select two runs and press Compare."));
    showOnPlot(*rightPlot_, nullptr);
    compareTable_->setRowCount(0);
    views_->setCurrentIndex(0);
}

void RunsPanel::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() != QEvent::PaletteChange) return;
    for (auto* plot : {runPlot_, leftPlot_, rightPlot_}) {
        applyPalette(*plot);
        plot->replot();
    }
}

}  // namespace edgent::widgets
