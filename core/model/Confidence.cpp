#include "core/model/Confidence.h"

#include <QJsonArray>

#include <algorithm>
#include <sstream>

namespace edgent::core {

const char* confidenceRuleName(ConfidenceRule rule) {
    switch (rule) {
    case ConfidenceRule::None: return "none";
    case ConfidenceRule::Entropy: return "entropy";
    case ConfidenceRule::MaxSoftmax: return "max-softmax";
    case ConfidenceRule::Appeal: return "appeal";
    }
    return "none";
}

Result<ConfidenceRule> confidenceRuleFromName(const std::string& name) {
    for (ConfidenceRule r :
         {ConfidenceRule::None, ConfidenceRule::Entropy, ConfidenceRule::MaxSoftmax, ConfidenceRule::Appeal})
        if (name == confidenceRuleName(r)) return r;
    return makeError("unknown confidence rule '" + name + "' (entropy, max-softmax or appeal)");
}

double ruleValue(ConfidenceRule rule, const ExitScores& s) {
    switch (rule) {
    case ConfidenceRule::Entropy: return s.entropy;
    case ConfidenceRule::MaxSoftmax: return s.maxSoftmax;
    case ConfidenceRule::Appeal: return s.appeal;
    case ConfidenceRule::None: break;
    }
    return NAN;
}

bool confident(ConfidenceRule rule, const ExitScores& s, double threshold) {
    switch (rule) {
    case ConfidenceRule::Entropy: return s.entropy < threshold;
    case ConfidenceRule::MaxSoftmax: return s.maxSoftmax >= threshold;
    case ConfidenceRule::Appeal: return s.appeal < threshold;  // NaN (no head) never stops
    case ConfidenceRule::None: break;
    }
    return false;
}

double thresholdMin(ConfidenceRule) { return 0.0; }

double thresholdMax(ConfidenceRule rule, int64_t classes) {
    return rule == ConfidenceRule::Entropy ? std::log(static_cast<double>(std::max<int64_t>(classes, 2))) : 1.0;
}

Status checkThreshold(ConfidenceRule rule, double threshold, int64_t classes) {
    if (rule == ConfidenceRule::None) return makeError("a threshold needs a confidence rule (entropy, max-softmax or appeal)");
    const double lo = thresholdMin(rule), hi = thresholdMax(rule, classes);
    if (!(threshold >= lo && threshold <= hi)) {
        std::ostringstream out;
        out << "the " << confidenceRuleName(rule) << " threshold " << threshold << " is outside its range [" << lo << ", " << hi
            << "]";
        return makeError(out.str());
    }
    return Status::success();
}

QJsonObject earlyExitsToJson(const EarlyExits& early) {
    QJsonArray exits, thresholds;
    for (int e : early.exits) exits.append(e);
    for (double t : early.thresholds) thresholds.append(t);
    return QJsonObject{{"rule", confidenceRuleName(early.active() ? early.rule : ConfidenceRule::None)},
                       {"exits", exits},
                       {"thresholds", thresholds}};
}

Result<EarlyExits> earlyExitsFromJson(const QJsonValue& value) {
    EarlyExits early;
    if (value.isNull() || value.isUndefined()) return early;
    if (!value.isObject()) return makeError("'early' must be an object {rule, exits, thresholds}");
    const QJsonObject o = value.toObject();
    auto rule = confidenceRuleFromName(o.value("rule").toString("none").toStdString());
    if (!rule) return makeError(rule.error());
    early.rule = *rule;
    for (const auto& e : o.value("exits").toArray()) {
        if (!e.isDouble()) return makeError("early exits must be exit numbers");
        early.exits.push_back(e.toInt());
    }
    for (const auto& t : o.value("thresholds").toArray()) {
        if (!t.isDouble()) return makeError("thresholds must be numbers");
        early.thresholds.push_back(t.toDouble());
    }
    return early;
}

ExitScores scoresFromLogits(const std::vector<float>& logits, double appealLogit) {
    ExitScores s;
    if (logits.empty()) return s;
    const double top = *std::max_element(logits.begin(), logits.end());
    double sum = 0.0;
    std::vector<double> e(logits.size());
    for (size_t i = 0; i < logits.size(); ++i) sum += e[i] = std::exp(static_cast<double>(logits[i]) - top);
    double entropy = 0.0, best = 0.0;
    for (double v : e) {
        const double p = v / sum;
        if (p > 0) entropy -= p * std::log(p);
        best = std::max(best, p);
    }
    s.entropy = std::max(0.0, entropy);
    s.maxSoftmax = best;
    if (!std::isnan(appealLogit)) s.appeal = 1.0 / (1.0 + std::exp(-appealLogit));
    return s;
}

}  // namespace edgent::core
