#pragma once
// The live plots of a running experiment (QCustomPlot), stacked on one time axis:
//   latency per inference as a bar of its device / transfer / edge parts (bars stay readable
//   when per-input early exits make the latency bimodal), the predicted latency and the
//   deadline line; rolling accuracy and rolling share of inputs offloaded to the edge; energy
//   per inference; the configured exit and partition as step plots, and the exit each input
//   actually took. Markers show where a slider moved, a trace
//   stepped, a change point fired or the plan switched. Plots scroll with the run (until
//   the user drags or zooms: double-click to follow again) and export to PNG and PDF.

#include "app/gui/Session.h"

#include <QWidget>

class QCustomPlot;
class QCPAxisRect;
class QCPGraph;
class QCheckBox;
class QLabel;

namespace edgent::gui {

class LivePlots : public QWidget {
    Q_OBJECT
public:
    explicit LivePlots(QWidget* parent = nullptr);

    void clear();
    void addSamples(const std::vector<LiveSample>& samples);
    void addMarker(double tSeconds, core::net::EventKind kind, const QString& label);
    void setDeadlineMs(double ms);
    int64_t points() const { return points_; }
    QCustomPlot* plot() const { return plot_; }
    // Redraws now (the refresh timer otherwise does it at most ~30 times a second).
    void replotNow();
    bool exportTo(const QString& path);  // .png or .pdf
    void setFollowing(bool on);
    void showRange(double fromS, double toS);  // the time axis, for every panel

Q_SIGNALS:
    void exported(const QString& path, bool ok);

private:
    void refresh();
    void follow();

    QCustomPlot* plot_;
    QCPAxisRect* latencyRect_;
    QCPAxisRect* accuracyRect_;
    QCPAxisRect* energyRect_;
    QCPAxisRect* configRect_;
    QCPGraph* total_;
    QCPGraph* predicted_;
    QCPGraph* device_;
    QCPGraph* deviceTransfer_;
    QCPGraph* stacked_;
    QCPGraph* accuracy_;
    QCPGraph* offload_;    // rolling fraction of inputs sent to the edge
    QCPGraph* exitTaken_;  // per-input early exits: the exit that answered
    QCPGraph* energy_;
    QCPGraph* exit_;
    QCPGraph* partition_;
    QCheckBox* followBox_;
    QLabel* readout_;
    double deadlineMs_ = 0.0;
    double lastT_ = 0.0;
    int partitionMax_ = 1;
    int64_t points_ = 0;
    std::vector<char> window_;  // rolling accuracy: the last kWindow correct flags
    std::vector<char> sentWindow_;  // and whether each went to the edge
    int windowSent_ = 0;
    std::vector<int64_t> exitCounts_;  // inputs answered at each exit
    size_t windowNext_ = 0;
    int windowCorrect_ = 0;
    int markers_ = 0;
    bool dirty_ = false;
};

}  // namespace edgent::gui
