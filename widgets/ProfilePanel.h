#pragma once
// Profiling: start a profile of both workers (repeats, optional synthetic sweep), follow its
// progress, and judge the per-layer latency regressions it produced: a table of every fit
// (R^2, held-out MAPE) and a measured-versus-predicted scatter of the selected one.

#include "core/plan/Regression.h"

#include <functional>
#include "core/profile/Profiler.h"

#include <QString>
#include <QWidget>

#include <map>
#include <string>
#include <vector>

class QCheckBox;
class QComboBox;
class QCPGraph;
class QCPTextElement;
class QCustomPlot;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QDoubleSpinBox;
class QTableWidget;

namespace edgent::core::store {
struct StoredProfile;
}

namespace edgent::widgets {

class ProfilePanel : public QWidget {
    Q_OBJECT
public:
    explicit ProfilePanel(QWidget* parent = nullptr);

    void setRunning(bool running);  // enables Cancel, disables Start, shows the progress bar
    void setProgress(const QString& node, const QString& stage, int done, int total);
    // Shows both nodes' newest stored profiles (either may be nullptr = none yet). Copied.
    void setProfiles(const edgent::core::store::StoredProfile* device, const edgent::core::store::StoredProfile* edge);
    void setMessage(const QString& text);  // plain-words status or error line

    // Shows one fit in the scatter, as choosing it in the table would. Returns false (and
    // leaves an empty plot saying so) when that node has no such fit.
    bool showFit(const QString& node, edgent::core::LayerKind kind, edgent::core::plan::FeatureSet featureSet);
    // Shows the forest's predictions of the node's held-out rows of one kind, as choosing
    // "Forest" in the plot's combo would.
    void showForest(const QString& node, edgent::core::LayerKind kind);
    QString plotTitle() const;  // what the scatter's title says
    // Writes the scatter to .png or .pdf (by suffix); the outcome goes to the status line.
    bool exportPlot(const QString& path);
    int fitCount() const { return static_cast<int>(rows_.size()); }
    // Asks for a profile with the controls' settings, as the start button does.
    void requestStart();
    // The profiling controls, kept between sessions by the window.
    struct Settings {
        int repeats = 25;
        bool synthetic = true;
        int adaptiveRounds = 3;
        int spread = 25;
        double spanSeconds = 10.0;
    };
    Settings settings() const;
    void setSettings(const Settings& s);  // out-of-range values are clamped to the controls' ranges

Q_SIGNALS:
    void startRequested(int repeats, bool synthetic, int adaptiveRounds, int spread, double spanSeconds);
    void calibrateRequested();
    void cancelRequested();

protected:
    void changeEvent(QEvent* event) override;

private:
    struct NodeData {
        bool present = false;
        int64_t id = 0;
        std::string host;
        int threads = 0;
        double overheadMs = 0.0;
        double seconds = 0.0;
        std::vector<core::profile::LayerTiming> layers;
        std::map<core::LayerKind, core::plan::LinearFit> fits[2];  // indexed by FeatureSet
    };
    struct FitRow {
        int node = 0;  // 0 device, 1 edge
        core::plan::LinearFit fit;
    };

    void fillFits();
    void fillKindCombo();
    void updateSummary();
    void plotCurrent();  // from the combo boxes
    void choosePlot(const QString& node, core::LayerKind kind, int setData);  // sets the combo boxes, then plots
    void drawFit(int node, core::LayerKind kind, core::plan::FeatureSet featureSet);
    void drawForest(int node, core::LayerKind kind);
    // Measured against predicted for the node's timings of a kind; NaN predictions are not drawn.
    void drawScatter(int node, core::LayerKind kind, const std::function<double(const core::profile::LayerTiming&)>& predict,
                     QString title);
    void applyPlotColours(bool forExport);
    void exportWithDialog(const QString& suffix);

    NodeData nodes_[2];
    std::vector<FitRow> rows_;

    QPushButton* start_;
    QSpinBox* repeats_;
    QCheckBox* synthetic_;
    QSpinBox* adaptive_;
    QSpinBox* spread_;
    QDoubleSpinBox* span_;
    QPushButton* cancel_;
    QPushButton* calibrate_;
    QProgressBar* progress_;
    QLabel* status_;
    QLabel* summary_;
    QTableWidget* fits_;
    QComboBox* nodeCombo_;
    QComboBox* kindCombo_;
    QComboBox* setCombo_;
    QCheckBox* logAxes_;
    QPushButton* exportPng_;
    QPushButton* exportPdf_;
    QCustomPlot* plot_;
    QCPTextElement* title_;
    QCPGraph* reference_ = nullptr;  // the y = x line of the current scatter
};

}  // namespace edgent::widgets
