#pragma once
// Experiment: the bandwidth slider (log scale, 10 kbps to 1 Gbps, typed or dragged), the
// deadline slider (10 ms to 5 s), policy, predictor, input rate, start/pause/stop, a
// bandwidth trace and the dynamic-mode switch. Moving a slider re-plans at once; the chosen
// exit, partition, predicted latency and expected accuracy are shown.

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSlider;

namespace edgent::gui {

class Session;

class ExperimentPanel : public QWidget {
    Q_OBJECT
public:
    explicit ExperimentPanel(Session& session, QWidget* parent = nullptr);

    double bandwidthBps() const;
    double deadlineMs() const;
    void setBandwidthBps(double bps);
    void setDeadlineMs(double ms);
    double targetAccuracy() const;  // NaN: the highest
    void setTargetAccuracy(double accuracy);
    QString policy() const;
    void setPolicy(const QString& name);
    QString predictor() const;
    void setPredictor(const QString& name);
    QString codec() const;
    void setCodec(const QString& name);
    double rateHz() const;
    void setRateHz(double hz);
    QString tracePath() const;
    void setTracePath(const QString& path);
    bool dynamicMode() const;
    void setDynamicMode(bool on);

    static double sliderToBps(int position);  // 0..1000 -> 10 kbps..1 Gbps
    static int bpsToSlider(double bps);
    static double sliderToMs(int position);  // 0..1000 -> 10 ms..5 s
    static int msToSlider(double ms);

public Q_SLOTS:
    void start();
    void togglePause();
    void stop();

private:
    void pushInputs(const QString& why);
    void showBandwidth(double bps);  // moves the slider without re-planning
    void showPlan();
    QString predictorNote() const;
    void showRunState();

    Session& session_;
    QSlider* bandwidthSlider_;
    QDoubleSpinBox* bandwidthKbps_;
    QSlider* deadlineSlider_;
    QDoubleSpinBox* deadlineMs_;
    QComboBox* policy_;
    QComboBox* predictor_;
    QComboBox* codec_;
    QDoubleSpinBox* target_;
    QDoubleSpinBox* rate_;
    QLineEdit* trace_;
    QCheckBox* dynamic_;
    QPushButton* start_;
    QPushButton* pause_;
    QPushButton* stop_;
    QLabel* plan_;
    bool syncing_ = false;
};

}  // namespace edgent::gui
