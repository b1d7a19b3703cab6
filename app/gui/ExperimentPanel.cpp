#include "app/gui/ExperimentPanel.h"

#include "app/gui/Session.h"
#include "core/control/ProfileRun.h"
#include "core/net/Codec.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSlider>
#include <QVBoxLayout>

#include <cmath>

namespace edgent::gui {

namespace {

constexpr double kMinBps = 10e3, kMaxBps = 1e9;
constexpr double kMinMs = 10.0, kMaxMs = 5000.0;
constexpr int kSteps = 1000;

double logMap(int position, double lo, double hi) { return lo * std::pow(hi / lo, static_cast<double>(position) / kSteps); }
int logUnmap(double v, double lo, double hi) {
    return static_cast<int>(std::lround(std::log(std::clamp(v, lo, hi) / lo) / std::log(hi / lo) * kSteps));
}

}  // namespace

double ExperimentPanel::sliderToBps(int p) { return logMap(p, kMinBps, kMaxBps); }
int ExperimentPanel::bpsToSlider(double bps) { return logUnmap(bps, kMinBps, kMaxBps); }
double ExperimentPanel::sliderToMs(int p) { return logMap(p, kMinMs, kMaxMs); }
int ExperimentPanel::msToSlider(double ms) { return logUnmap(ms, kMinMs, kMaxMs); }

ExperimentPanel::ExperimentPanel(Session& session, QWidget* parent) : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);
    auto* inputs = new QGroupBox(tr("Conditions"), this);
    auto* form = new QFormLayout(inputs);

    bandwidthSlider_ = new QSlider(Qt::Horizontal, inputs);
    bandwidthSlider_->setObjectName("bandwidthSlider");
    bandwidthSlider_->setRange(0, kSteps);
    bandwidthKbps_ = new QDoubleSpinBox(inputs);
    bandwidthKbps_->setObjectName("bandwidthValue");
    bandwidthKbps_->setRange(kMinBps / 1000, kMaxBps / 1000);
    bandwidthKbps_->setDecimals(1);
    bandwidthKbps_->setSuffix(tr(" kbps"));
    bandwidthKbps_->setKeyboardTracking(false);
    auto* bwRow = new QHBoxLayout;
    bwRow->addWidget(bandwidthSlider_, 1);
    bwRow->addWidget(bandwidthKbps_);
    form->addRow(tr("Uplink bandwidth"), bwRow);

    deadlineSlider_ = new QSlider(Qt::Horizontal, inputs);
    deadlineSlider_->setObjectName("deadlineSlider");
    deadlineSlider_->setRange(0, kSteps);
    deadlineMs_ = new QDoubleSpinBox(inputs);
    deadlineMs_->setObjectName("deadlineValue");
    deadlineMs_->setRange(kMinMs, kMaxMs);
    deadlineMs_->setDecimals(1);
    deadlineMs_->setSuffix(tr(" ms"));
    deadlineMs_->setKeyboardTracking(false);
    auto* dlRow = new QHBoxLayout;
    dlRow->addWidget(deadlineSlider_, 1);
    dlRow->addWidget(deadlineMs_);
    form->addRow(tr("Deadline"), dlRow);

    policy_ = new QComboBox(inputs);
    policy_->setObjectName("policyCombo");
    for (const auto& name : core::plan::policyNames()) policy_->addItem(QString::fromStdString(name));
    policy_->setToolTip(
        tr("edgent and its baselines choose one exit and partition for every input; branchynet, appealnet, cascade and "
           "adaptive decide per input with confidence rules at early exits (they need a calibration: Profile, "
           "Calibrate)"));
    form->addRow(tr("Policy"), policy_);
    target_ = new QDoubleSpinBox(inputs);
    target_->setObjectName("targetAccuracy");
    target_->setRange(0.0, 100.0);
    target_->setDecimals(2);
    target_->setSingleStep(0.1);
    target_->setSuffix(tr(" %"));
    target_->setSpecialValueText(tr("highest"));
    target_->setKeyboardTracking(false);
    target_->setToolTip(
        tr("Per-input policies: the expected accuracy to reach at the least device energy; 'highest' plans for the highest "
           "accuracy that meets the deadline"));
    form->addRow(tr("Target accuracy"), target_);
    predictor_ = new QComboBox(inputs);
    predictor_->setObjectName("predictorCombo");
    for (const auto& name : core::control::predictorNames()) predictor_->addItem(QString::fromStdString(name));
    predictor_->setToolTip(
        tr("auto: lookup-p95 when the model was profiled on both nodes, else forest-p95; lookup: measured per-layer "
           "medians; lookup-p95: their 95th percentiles, so that the plan meets the deadline in ~95% of inferences, not "
           "half; forest, forest-p95: boosted trees on each layer's configuration, for models never profiled; "
           "regression, regression-p95: Edgent's Table-1 fits to medians or 95th percentiles; regression-macs: plus a "
           "multiply-accumulate term"));
    form->addRow(tr("Predictor"), predictor_);
    codec_ = new QComboBox(inputs);
    codec_->setObjectName("codecCombo");
    codec_->addItem(QStringLiteral("auto"));
    for (core::net::Codec c : core::net::allCodecs()) codec_->addItem(QString::fromStdString(core::net::codecName(c)));
    codec_->setToolTip(
        tr("How the cut tensor travels. auto: the planner chooses the codec with the exit and partition, among those a "
           "validation codec calibration (edgent calibrate --codecs) and the profiles' codec times cover; fp16, int8 "
           "(per channel): lossy, smaller; +zstd: a lossless stage, which also compresses the raw input (docs/codecs.md)"));
    form->addRow(tr("Codec"), codec_);
    rate_ = new QDoubleSpinBox(inputs);
    rate_->setObjectName("rateValue");
    rate_->setRange(0.0, 10000.0);
    rate_->setDecimals(1);
    rate_->setSpecialValueText(tr("back-to-back"));
    rate_->setSuffix(tr(" inputs/s"));
    form->addRow(tr("Input rate"), rate_);
    trace_ = new QLineEdit(inputs);
    trace_->setObjectName("tracePath");
    trace_->setPlaceholderText(tr("none: the slider sets the bandwidth"));
    auto* browse = new QPushButton(tr("Browse…"), inputs);
    auto* traceRow = new QHBoxLayout;
    traceRow->addWidget(trace_, 1);
    traceRow->addWidget(browse);
    form->addRow(tr("Bandwidth trace"), traceRow);
    dynamic_ = new QCheckBox(tr("Dynamic mode"), inputs);
    dynamic_->setToolTip(
        tr("Estimate the bandwidth from the transfers, detect change points (CUSUM) and switch to "
           "the configuration map's plan for the new bandwidth state"));
    dynamic_->setObjectName("dynamicCheck");
    form->addRow(QString(), dynamic_);
    layout->addWidget(inputs);

    auto* buttons = new QHBoxLayout;
    start_ = new QPushButton(tr("Start"), this);
    start_->setObjectName("startButton");
    pause_ = new QPushButton(tr("Pause"), this);
    pause_->setObjectName("pauseButton");
    stop_ = new QPushButton(tr("Stop"), this);
    stop_->setObjectName("stopButton");
    buttons->addWidget(start_);
    buttons->addWidget(pause_);
    buttons->addWidget(stop_);
    buttons->addStretch();
    layout->addLayout(buttons);

    auto* planBox = new QGroupBox(tr("Plan"), this);
    auto* planLayout = new QVBoxLayout(planBox);
    plan_ = new QLabel(planBox);
    plan_->setObjectName("planLabel");
    plan_->setWordWrap(true);
    plan_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    planLayout->addWidget(plan_);
    layout->addWidget(planBox);
    layout->addStretch();

    setBandwidthBps(1e6);
    setDeadlineMs(100.0);

    // A slider and its spin box move together; either one re-plans.
    auto link = [this](QSlider* slider, QDoubleSpinBox* box, double (*toValue)(int), int (*toPosition)(double), double unit,
                       const QString& what) {
        connect(slider, &QSlider::valueChanged, this, [=](int v) {
            if (syncing_) return;
            syncing_ = true;
            box->setValue(toValue(v) / unit);
            syncing_ = false;
            pushInputs(tr("%1 slider").arg(what));
        });
        connect(box, &QDoubleSpinBox::valueChanged, this, [=](double x) {
            if (syncing_) return;
            syncing_ = true;
            slider->setValue(toPosition(x * unit));
            syncing_ = false;
            pushInputs(tr("%1 typed").arg(what));
        });
    };
    link(bandwidthSlider_, bandwidthKbps_, &sliderToBps, &bpsToSlider, 1000.0, tr("bandwidth"));
    link(deadlineSlider_, deadlineMs_, &sliderToMs, &msToSlider, 1.0, tr("deadline"));
    connect(policy_, &QComboBox::currentTextChanged, this, [this] { pushInputs(tr("policy")); });
    connect(predictor_, &QComboBox::currentTextChanged, this, [this] { pushInputs(tr("predictor")); });
    connect(codec_, &QComboBox::currentTextChanged, this, [this] { pushInputs(tr("codec")); });
    connect(target_, &QDoubleSpinBox::valueChanged, this, [this] { pushInputs(tr("target accuracy")); });
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Bandwidth trace"), trace_->text(), tr("Traces (*.csv)"));
        if (!f.isEmpty()) trace_->setText(f);
    });
    connect(start_, &QPushButton::clicked, this, &ExperimentPanel::start);
    connect(pause_, &QPushButton::clicked, this, &ExperimentPanel::togglePause);
    connect(stop_, &QPushButton::clicked, this, &ExperimentPanel::stop);
    connect(&session_, &Session::planChanged, this, &ExperimentPanel::showPlan);
    connect(&session_, &Session::runStarted, this, &ExperimentPanel::showRunState);
    connect(&session_, &Session::runStopped, this, &ExperimentPanel::showRunState);
    connect(&session_, &Session::workersChanged, this, &ExperimentPanel::showRunState);
    // A trace moves the bandwidth: the slider follows it without re-planning, and returns
    // to the user's own setting (the one planned for) when the run ends.
    connect(&session_, &Session::runEvent, this, [this](const QString& kind, const QString&, double, double value) {
        if (core::net::eventKindFromName(kind.toStdString()) != core::net::EventKind::Bandwidth || std::isnan(value)) return;
        showBandwidth(value);
    });
    connect(&session_, &Session::runStopped, this, [this] { showBandwidth(session_.planInputs().bandwidthBps); });
    showPlan();
    showRunState();
}

double ExperimentPanel::bandwidthBps() const { return bandwidthKbps_->value() * 1000.0; }
double ExperimentPanel::deadlineMs() const { return deadlineMs_->value(); }
double ExperimentPanel::targetAccuracy() const { return target_->value() > 0.0 ? target_->value() / 100.0 : NAN; }
void ExperimentPanel::setTargetAccuracy(double accuracy) {
    target_->setValue(std::isnan(accuracy) ? 0.0 : 100.0 * accuracy);
}
QString ExperimentPanel::policy() const { return policy_->currentText(); }
QString ExperimentPanel::predictor() const { return predictor_->currentText(); }
QString ExperimentPanel::codec() const { return codec_->currentText(); }
void ExperimentPanel::setCodec(const QString& name) { codec_->setCurrentText(name); }
double ExperimentPanel::rateHz() const { return rate_->value(); }
QString ExperimentPanel::tracePath() const { return trace_->text().trimmed(); }
bool ExperimentPanel::dynamicMode() const { return dynamic_->isChecked(); }
void ExperimentPanel::setPolicy(const QString& name) { policy_->setCurrentText(name); }
void ExperimentPanel::setPredictor(const QString& name) { predictor_->setCurrentText(name); }
void ExperimentPanel::setRateHz(double hz) { rate_->setValue(hz); }
void ExperimentPanel::setTracePath(const QString& path) { trace_->setText(path); }
void ExperimentPanel::setDynamicMode(bool on) { dynamic_->setChecked(on); }

void ExperimentPanel::showBandwidth(double bps) {
    syncing_ = true;
    bandwidthKbps_->setValue(bps / 1000.0);
    bandwidthSlider_->setValue(bpsToSlider(bps));
    syncing_ = false;
}

void ExperimentPanel::setBandwidthBps(double bps) {
    syncing_ = true;
    bandwidthKbps_->setValue(bps / 1000.0);
    bandwidthSlider_->setValue(bpsToSlider(bps));
    syncing_ = false;
    pushInputs(tr("bandwidth set"));
}

void ExperimentPanel::setDeadlineMs(double ms) {
    syncing_ = true;
    deadlineMs_->setValue(ms);
    deadlineSlider_->setValue(msToSlider(ms));
    syncing_ = false;
    pushInputs(tr("deadline set"));
}

void ExperimentPanel::pushInputs(const QString& why) {
    PlanInputs in;
    in.bandwidthBps = bandwidthBps();
    in.deadlineMs = deadlineMs();
    auto policy = core::plan::policyFromName(policy_->currentText().toStdString());
    if (policy) in.policy = *policy;
    in.predictor = predictor_->currentText();
    in.codec = codec_->currentText();
    in.targetAccuracy = targetAccuracy();
    session_.setPlanInputs(in, why);
}

QString ExperimentPanel::predictorNote() const {
    const QString used = session_.predictorInUse();
    if (used.isEmpty()) return {};
    const bool fitted = core::control::predictorIsFitted(used.toStdString());
    const QString codecs = codec_->currentText() == QLatin1String("auto") && !session_.codecNote().isEmpty()
                               ? tr("<br><small>codec: fp32 only: %1</small>").arg(session_.codecNote().toHtmlEscaped())
                               : QString();
    return tr("<br><small>latency model: %1%2</small>")
               .arg(used)
               .arg(fitted ? tr(" (predicted from the layers' configurations, not measured on this model)") : QString()) +
           codecs;
}

void ExperimentPanel::showPlan() {
    const auto& p = session_.plan();
    if (!p) {
        plan_->setText(session_.planProblem().isEmpty() ? tr("No plan yet.") : session_.planProblem());
        return;
    }
    const auto* t = session_.latencyTable();
    const int n = t ? t->pathLength(p->exit) : 0;
    QString where = p->partition == 0   ? tr("all on the edge")
                    : p->partition == n ? tr("all on the device")
                                        : tr("device runs layers 0–%1").arg(p->partition - 1);
    if (p->early.active()) {
        QString exits;
        for (int e : p->early.exits) exits += (exits.isEmpty() ? "" : ", ") + QString::number(e);
        plan_->setText(tr("<b>early exits %1</b> (%2 %3 %4), then <b>exit %5</b>, partition <b>%6/%7</b> (%8)<br>"
                          "expected latency <b>%9 ms</b> (p95 %10 ms), accuracy <b>%11%</b><br>"
                          "offloaded <b>%12%</b>, device energy <b>%13 mJ</b> per input%14")
                           .arg(exits)
                           .arg(QString::fromLatin1(core::confidenceRuleName(p->early.rule)))
                           .arg(p->early.rule == core::ConfidenceRule::MaxSoftmax ? QStringLiteral("≥") : QStringLiteral("<"))
                           .arg(p->early.thresholds.front(), 0, 'g', 3)
                           .arg(p->exit)
                           .arg(p->partition)
                           .arg(n)
                           .arg(where)
                           .arg(p->predictedMs, 0, 'f', 2)
                           .arg(p->predictedP95Ms, 0, 'f', 2)
                           .arg(100.0 * p->accuracy, 0, 'f', 2)
                           .arg(100.0 * p->offloadRate, 0, 'f', 0)
                           .arg(p->energyMj, 0, 'f', 1)
                           .arg((!p->feasible     ? tr("<br><span style='color:#cf222e'>nothing meets the deadline: "
                                                      "this is the policy's fastest option</span>")
                                : !p->meetsTarget ? tr("<br><span style='color:#cf222e'>the target accuracy is out of "
                                                       "reach: this is the most accurate option</span>")
                                                  : QString()) + predictorNote()));
        return;
    }
    const bool sends = p->partition < n;
    plan_->setText(tr("<b>exit %1</b>, partition <b>%2/%3</b> (%4)%8<br>predicted latency <b>%5 ms</b>, expected accuracy "
                      "<b>%6%</b>%7")
                       .arg(p->exit)
                       .arg(p->partition)
                       .arg(n)
                       .arg(where)
                       .arg(p->predictedMs, 0, 'f', 2)
                       .arg(100.0 * p->accuracy, 0, 'f', 2)
                       .arg((p->feasible ? QString()
                                         : tr("<br><span style='color:#cf222e'>nothing meets the deadline: "
                                              "this is the policy's fastest option</span>")) +
                            predictorNote())
                       .arg(!sends ? QString()
                            : p->partition > 0 ? tr(", codec <b>%1</b>").arg(QString::fromStdString(core::net::codecName(p->codec)))
                            : p->codec.lossless != core::net::Lossless::None
                                ? tr(", the image <b>zstd</b>-compressed (%1)").arg(QString::fromStdString(core::net::codecName(p->codec)))
                                : tr(", the image as it is")));
}

void ExperimentPanel::showRunState() {
    const bool running = session_.running();
    start_->setEnabled(!running && session_.workersReady());
    pause_->setEnabled(running);
    pause_->setText(session_.paused() ? tr("Resume") : tr("Pause"));
    stop_->setEnabled(running);
    trace_->setEnabled(!running);
    dynamic_->setEnabled(!running);
}

void ExperimentPanel::start() {
    RunRequest r;
    r.rateHz = rateHz();
    r.tracePath = tracePath();
    r.dynamic = dynamicMode();
    session_.startRun(r);
    showRunState();
}

void ExperimentPanel::togglePause() {
    if (session_.paused())
        session_.resumeRun();
    else
        session_.pauseRun();
    showRunState();
}

void ExperimentPanel::stop() {
    session_.stopRun();
    showRunState();
}

}  // namespace edgent::gui
