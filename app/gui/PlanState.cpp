#include "app/gui/PlanState.h"

#include "core/control/ProfileRun.h"

#include <QCoreApplication>

namespace edgent::gui {

using namespace edgent::core;

void PlanState::setSources(store::RunStore* store, const ModelBytes* model, const std::string& modelHash) {
    store_ = store;
    model_ = model;
    modelHash_ = modelHash;
}

bool PlanState::rebuild() {
    table_.reset();
    problem_.clear();
    if (!model_) {
        problem_ = QCoreApplication::translate("PlanState", "No model loaded.");
    } else if (!store_) {
        problem_ = QCoreApplication::translate("PlanState", "No run database open.");
    } else {
        auto t = control::latencyTableFor(*store_, model_->file, modelHash_, inputs_.predictor.toStdString());
        if (t)
            table_ = std::move(*t);
        else
            problem_ = QString::fromStdString(t.error());
        // The estimator subtracts the typical per-message cost, whatever the predictor adds.
        if (auto device = store_->latestProfile(modelHash_, "device")) messageOverheadMs_ = device->overheadMs;
    }
    return replan();
}

bool PlanState::replan() {
    const auto before = plan_;
    if (!table_ || !model_)
        plan_.reset();
    else
        plan_ =
            plan::choosePlan(*table_, model_->file.spec.exitAccuracy, inputs_.bandwidthBps, inputs_.deadlineMs, inputs_.policy);
    if (!plan_) return false;
    return !before || before->exit != plan_->exit || before->partition != plan_->partition;
}

bool PlanState::setInputs(const PlanInputs& inputs) {
    const bool predictorChanged = inputs.predictor != inputs_.predictor;
    inputs_ = inputs;
    return predictorChanged ? rebuild() : replan();
}

control::RunPlanning PlanState::planning(bool dynamic) const {
    control::RunPlanning p;
    if (table_) p.table = *table_;
    if (model_) p.exitAccuracy = model_->file.spec.exitAccuracy;
    p.deadlineMs = inputs_.deadlineMs;
    p.policy = inputs_.policy;
    p.predictor = inputs_.predictor.toStdString();
    p.dynamic = dynamic;
    p.messageOverheadMs = messageOverheadMs_;
    return p;
}

}  // namespace edgent::gui
