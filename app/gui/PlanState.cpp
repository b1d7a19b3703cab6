#include "app/gui/PlanState.h"

#include "core/control/ProfileRun.h"

#include <QCoreApplication>

namespace edgent::gui {

using namespace edgent::core;

void PlanState::setSources(store::RunStore* store, const ModelBytes* model, const std::string& modelHash,
                           const energy::PowerProfile& power) {
    store_ = store;
    model_ = model;
    modelHash_ = modelHash;
    power_ = power;
}

bool PlanState::rebuild() {
    context_.reset();
    problem_.clear();
    if (!model_) {
        problem_ = QCoreApplication::translate("PlanState", "No model loaded.");
    } else if (!store_) {
        problem_ = QCoreApplication::translate("PlanState", "No run database open.");
    } else {
        auto c = control::planContextFor(*store_, model_->file, modelHash_, inputs_.predictor.toStdString(), power_);
        if (c)
            context_ = std::move(*c);
        else
            problem_ = QString::fromStdString(c.error());
        // The estimator subtracts the typical per-message cost, whatever the predictor adds.
        if (auto device = store_->latestProfile(modelHash_, "device")) messageOverheadMs_ = device->overheadMs;
    }
    return replan();
}

bool PlanState::replan() {
    const auto before = plan_;
    plan_.reset();
    if (context_) {
        auto p = plan::makePlan(
            *context_,
            plan::PlanGoal{inputs_.deadlineMs, inputs_.policy, inputs_.targetAccuracy, inputs_.codec.toStdString()},
            inputs_.bandwidthBps);
        if (p) {
            plan_ = std::move(*p);
            problem_.clear();
        } else {
            problem_ = QString::fromStdString(p.error());
        }
    }
    if (!plan_) return false;
    return !before || !plan::sameConfiguration(*before, *plan_);
}

bool PlanState::setInputs(const PlanInputs& inputs) {
    const bool predictorChanged = inputs.predictor != inputs_.predictor;
    inputs_ = inputs;
    return predictorChanged ? rebuild() : replan();
}

control::RunPlanning PlanState::planning(bool dynamic) const {
    control::RunPlanning p;
    if (context_) p.context = *context_;
    p.goal = plan::PlanGoal{inputs_.deadlineMs, inputs_.policy, inputs_.targetAccuracy, inputs_.codec.toStdString()};
    p.predictor = context_ ? context_->predictor : inputs_.predictor.toStdString();
    p.dynamic = dynamic;
    p.messageOverheadMs = messageOverheadMs_;
    return p;
}

}  // namespace edgent::gui
