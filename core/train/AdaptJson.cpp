// On-device adaptation's options and report as JSON (core/train/Adapt.h). Torch-free.
#include "core/train/Adapt.h"

#include <QJsonArray>

namespace edgent::core {

QJsonObject adaptOptionsToJson(const AdaptOptions& o) {
    return QJsonObject{{"mode", QString::fromStdString(o.mode)},
                       {"exit", o.exit},
                       {"partition", o.partition},
                       {"first_layer", o.firstLayer},
                       {"last_layer", o.lastLayer},
                       {"steps", o.steps},
                       {"batch", o.batch},
                       {"learning_rate", o.learningRate},
                       {"bits", o.bits},
                       {"min_bits", o.minBits},
                       {"max_bits", o.maxBits},
                       {"check_every", o.checkEvery},
                       {"g_min", o.gMin},
                       {"g_max", o.gMax},
                       {"dataset", QString::fromStdString(o.dataset)},
                       {"data_dir", QString::fromStdString(o.dataDir)},
                       {"train_first", static_cast<qint64>(o.trainFirst)},
                       {"train_count", static_cast<qint64>(o.trainCount)},
                       {"eval_first", static_cast<qint64>(o.evalFirst)},
                       {"eval_count", static_cast<qint64>(o.evalCount)},
                       {"shift", QString::fromStdString(shiftToString(o.shift))},
                       {"eval_every", o.evalEvery},
                       {"seed", static_cast<qint64>(o.seed)}};
}

Result<AdaptOptions> adaptOptionsFromJson(const QJsonObject& j) {
    AdaptOptions o;
    auto integer = [&](const char* key, auto& into) -> Status {
        if (!j.contains(key)) return Status::success();
        if (!j.value(key).isDouble()) return makeError(std::string(key) + " must be a number");
        into = static_cast<std::remove_reference_t<decltype(into)>>(j.value(key).toInteger());
        return Status::success();
    };
    for (auto s : {integer("exit", o.exit), integer("partition", o.partition), integer("first_layer", o.firstLayer),
                   integer("last_layer", o.lastLayer), integer("steps", o.steps), integer("batch", o.batch), integer("bits", o.bits),
                   integer("min_bits", o.minBits), integer("max_bits", o.maxBits), integer("check_every", o.checkEvery),
                   integer("train_first", o.trainFirst), integer("train_count", o.trainCount), integer("eval_first", o.evalFirst),
                   integer("eval_count", o.evalCount), integer("eval_every", o.evalEvery), integer("seed", o.seed)})
        if (!s) return makeError(s.error());
    o.mode = j.value("mode").toString(QString::fromStdString(o.mode)).toStdString();
    o.learningRate = j.value("learning_rate").toDouble(o.learningRate);
    o.gMin = j.value("g_min").toDouble(o.gMin);
    o.gMax = j.value("g_max").toDouble(o.gMax);
    o.dataset = j.value("dataset").toString(QString::fromStdString(o.dataset)).toStdString();
    o.dataDir = j.value("data_dir").toString().toStdString();
    if (j.contains("shift")) {
        auto shift = parseShift(j.value("shift").toString().toStdString());
        if (!shift) return makeError(shift.error());
        o.shift = *shift;
    }
    return o;
}

QJsonObject adaptReportToJson(const AdaptReport& r) {
    QJsonArray exits, layers, steps;
    for (int e : r.deviceExits) exits.append(e);
    for (const AdaptLayer& l : r.layers)
        layers.append(QJsonObject{{"name", QString::fromStdString(l.name)},
                                  {"trained", l.trained},
                                  {"quantised", l.quantised},
                                  {"params", static_cast<qint64>(l.params)},
                                  {"macs_per_image", static_cast<qint64>(l.macsPerImage)},
                                  {"bits", l.bits}});
    for (const AdaptStep& s : r.steps) {
        QJsonArray bits;
        for (int b : s.bits) bits.append(b);
        QJsonObject x{{"step", s.step}, {"loss", s.loss}, {"batch_accuracy", s.batchAccuracy}, {"bits", bits}};
        if (!std::isnan(s.evalAccuracy)) x["eval_accuracy"] = s.evalAccuracy;
        steps.append(x);
    }
    return QJsonObject{{"mode", QString::fromStdString(r.mode)},
                       {"exit", r.exit},
                       {"partition", r.partition},
                       {"device_exits", exits},
                       {"shifted_before", r.shiftedBefore},
                       {"shifted_after", r.shiftedAfter},
                       {"clean_before", r.cleanBefore},
                       {"clean_after", r.cleanAfter},
                       {"param_bytes_held", static_cast<qint64>(r.paramBytesHeld)},
                       {"param_bytes_peak", static_cast<qint64>(r.paramBytesPeak)},
                       {"gemm_energy_mj", r.gemmEnergyMj},
                       {"gemm_macs", static_cast<qint64>(r.gemmMacs)},
                       {"layers", layers},
                       {"steps", steps},
                       {"seconds", r.seconds},
                       {"cancelled", r.cancelled}};
}

AdaptReport adaptReportFromJson(const QJsonObject& j) {
    AdaptReport r;
    r.mode = j.value("mode").toString().toStdString();
    r.exit = j.value("exit").toInt();
    r.partition = j.value("partition").toInt();
    for (const auto& e : j.value("device_exits").toArray()) r.deviceExits.push_back(e.toInt());
    r.shiftedBefore = j.value("shifted_before").toDouble();
    r.shiftedAfter = j.value("shifted_after").toDouble();
    r.cleanBefore = j.value("clean_before").toDouble();
    r.cleanAfter = j.value("clean_after").toDouble();
    r.paramBytesHeld = j.value("param_bytes_held").toInteger();
    r.paramBytesPeak = j.value("param_bytes_peak").toInteger();
    r.gemmEnergyMj = j.value("gemm_energy_mj").toDouble();
    r.gemmMacs = j.value("gemm_macs").toInteger();
    for (const auto& v : j.value("layers").toArray()) {
        const QJsonObject x = v.toObject();
        r.layers.push_back({x.value("name").toString().toStdString(), x.value("trained").toBool(), x.value("quantised").toBool(),
                            x.value("params").toInteger(), x.value("macs_per_image").toInteger(), x.value("bits").toInt(32)});
    }
    for (const auto& v : j.value("steps").toArray()) {
        const QJsonObject x = v.toObject();
        AdaptStep s;
        s.step = x.value("step").toInt();
        s.loss = x.value("loss").toDouble();
        s.batchAccuracy = x.value("batch_accuracy").toDouble();
        s.evalAccuracy = x.contains("eval_accuracy") ? x.value("eval_accuracy").toDouble() : NAN;
        for (const auto& b : x.value("bits").toArray()) s.bits.push_back(b.toInt());
        r.steps.push_back(s);
    }
    r.seconds = j.value("seconds").toDouble();
    r.cancelled = j.value("cancelled").toBool();
    return r;
}

}  // namespace edgent::core
