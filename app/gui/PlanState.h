#pragma once
// What the Experiment panel plans for when no run is going: the inputs (bandwidth, deadline,
// policy, predictor, target accuracy), what plans are made from (the loaded model's latency
// tables and calibration from the store: core/control/ProfileRun.h planContextFor), and the
// plan. A run plans for itself (core/control/LiveRun.h) from a copy of this, so a trace or
// dynamic mode never leaves its bandwidth here. Torch-free; UI thread only.

#include "core/control/LiveRun.h"
#include "core/energy/PowerModel.h"
#include "core/model/ModelFile.h"
#include "core/plan/Planner.h"
#include "core/store/RunStore.h"

#include <QString>

#include <cmath>
#include <optional>

namespace edgent::gui {

struct PlanInputs {
    double bandwidthBps = 1e6;
    double deadlineMs = 100.0;
    core::plan::Policy policy = core::plan::Policy::Edgent;
    QString predictor = QStringLiteral("lookup");
    double targetAccuracy = NAN;  // per-input policies: NaN = the highest accuracy
    QString codec = QStringLiteral("auto");  // the cut tensor's codec: auto or a codec's name
};

class PlanState {
public:
    // What the plan is made from; either may be null.
    void setSources(core::store::RunStore* store, const core::ModelBytes* model, const std::string& modelHash,
                    const core::energy::PowerProfile& power);
    // Rebuilds what plans are made from (a new profile, calibration, predictor or model) and
    // re-plans. True when the configuration changed.
    bool rebuild();
    // Re-plans. True when the configuration changed.
    bool replan();
    // New inputs: rebuilds when the predictor changed, else re-plans. True when the
    // configuration changed.
    bool setInputs(const PlanInputs& inputs);

    const PlanInputs& inputs() const { return inputs_; }
    const std::optional<core::plan::PlanResult>& plan() const { return plan_; }
    QString problem() const { return problem_; }
    const core::plan::LatencyTable* table() const { return context_ ? &context_->table : nullptr; }
    QString predictorInUse() const { return context_ ? QString::fromStdString(context_->predictor) : QString(); }
    bool calibrated() const { return context_ && context_->calibration; }
    // Why plans have no codec beyond fp32 (empty when they have some).
    QString codecNote() const { return context_ ? QString::fromStdString(context_->codecNote) : QString(); }
    // What a run plans with; needs table().
    core::control::RunPlanning planning(bool dynamic) const;

private:
    core::store::RunStore* store_ = nullptr;
    const core::ModelBytes* model_ = nullptr;
    std::string modelHash_;
    core::energy::PowerProfile power_;
    PlanInputs inputs_;
    std::optional<core::plan::PlanContext> context_;
    double messageOverheadMs_ = 0.0;  // the device profile's median per-message cost
    std::optional<core::plan::PlanResult> plan_;
    QString problem_;
};

}  // namespace edgent::gui
