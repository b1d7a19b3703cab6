#pragma once
// Per-input early exits: the confidence rules an exit can use to let an input stop there.
//   entropy     (BranchyNet): the softmax entropy in nats, H = -sum p ln p; the input stops
//               when H < T, T in [0, ln C]. T = 0 never stops an input early.
//   max-softmax (confidence cascades, SPINN): the top softmax probability; the input stops
//               when p_max >= T, T in [0, 1]. T = 0 stops every input at the first exit.
//   appeal      (AppealNet): the exit's appeal head gives q(x) = P(the input needs the big
//               model); the input stops when q < T, T in [0, 1].
// Torch-free: the planner, the store and the window use these.

#include "core/util/Result.h"

#include <QJsonObject>

#include <cmath>
#include <string>
#include <vector>

namespace edgent::core {

enum class ConfidenceRule { None, Entropy, MaxSoftmax, Appeal };

const char* confidenceRuleName(ConfidenceRule rule);  // "none", "entropy", "max-softmax", "appeal"
Result<ConfidenceRule> confidenceRuleFromName(const std::string& name);

// What each rule reads at one exit for one input. appeal is NaN where the exit has no head.
struct ExitScores {
    double entropy = NAN;
    double maxSoftmax = NAN;
    double appeal = NAN;
};

// The value the rule reads (entropy, top probability, or q).
double ruleValue(ConfidenceRule rule, const ExitScores& scores);
// True when the input may stop at this exit under the rule and threshold.
bool confident(ConfidenceRule rule, const ExitScores& scores, double threshold);
// The range of a rule's thresholds for a model with `classes` classes.
double thresholdMin(ConfidenceRule rule);
double thresholdMax(ConfidenceRule rule, int64_t classes);
// One clear line when a threshold lies outside its rule's range.
Status checkThreshold(ConfidenceRule rule, double threshold, int64_t classes);

// Per-input early exits: the device evaluates `exits` in order, each with its threshold under
// `rule`; an input stops at the first exit it is confident at, and the others go on along
// the final exit's path, split at the partition.
struct EarlyExits {
    ConfidenceRule rule = ConfidenceRule::None;
    std::vector<int> exits;
    std::vector<double> thresholds;
    bool active() const { return rule != ConfidenceRule::None && !exits.empty(); }
};

// On the control channel: {"rule", "exits", "thresholds"} ({"rule": "none"} for none).
QJsonObject earlyExitsToJson(const EarlyExits& early);
Result<EarlyExits> earlyExitsFromJson(const QJsonValue& value);

// Every exit's scores and prediction for every image of a split: what per-input early exits
// are calibrated on (core/train/Calibration.h makes one, core/plan/Adaptive.h plans with it).
struct CalibrationSet {
    std::string dataset;
    std::string split;   // "validation" or "test"
    int64_t first = 0;   // index of the first image within its dataset split
    int numExits = 0;
    int64_t samples = 0;
    std::vector<int> labels;          // [sample]
    std::vector<int> predictions;     // [sample * numExits + exit]
    std::vector<float> entropy;       // same layout
    std::vector<float> maxSoftmax;
    std::vector<float> appeal;        // NaN where the exit has no appeal head

    size_t at(int64_t sample, int exit) const { return static_cast<size_t>(sample * numExits + exit); }
    bool correct(int64_t sample, int exit) const { return predictions[at(sample, exit)] == labels[static_cast<size_t>(sample)]; }
    ExitScores scores(int64_t sample, int exit) const {
        const size_t i = at(sample, exit);
        return ExitScores{entropy[i], maxSoftmax[i], appeal[i]};
    }
};

// Scores from one row of logits (and the appeal head's logit, or NaN).
ExitScores scoresFromLogits(const std::vector<float>& logits, double appealLogit = NAN);

}  // namespace edgent::core
