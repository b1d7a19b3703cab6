#include "core/model/ModelFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace edgent::core {

namespace {

constexpr const char* kFormatName = "edgent-model";

QJsonObject layerToJson(const LayerSpec& l, const Shape& input) {
    QJsonObject o;
    o["kind"] = QString::fromStdString(std::string(layerKindName(l.kind)));
    o["name"] = QString::fromStdString(l.name);
    switch (l.kind) {
    case LayerKind::Conv:
        o["in_channels"] = static_cast<qint64>(input.dims.size() == 3 ? input.dims[0] : 0);
        o["out_channels"] = static_cast<qint64>(l.outChannels);
        o["kernel"] = static_cast<qint64>(l.kernel);
        o["stride"] = static_cast<qint64>(l.stride);
        o["padding"] = static_cast<qint64>(l.padding);
        if (l.groups != 1) o["groups"] = static_cast<qint64>(l.groups);
        break;
    case LayerKind::MaxPool:
        o["kernel"] = static_cast<qint64>(l.kernel);
        o["stride"] = static_cast<qint64>(l.stride);
        o["padding"] = static_cast<qint64>(l.padding);
        break;
    case LayerKind::Linear:
        o["in_features"] = static_cast<qint64>(input.dims.size() == 1 ? input.dims[0] : 0);
        o["out_features"] = static_cast<qint64>(l.outFeatures);
        break;
    case LayerKind::Lrn:
        o["size"] = static_cast<qint64>(l.lrnSize);
        o["alpha"] = l.lrnAlpha;
        o["beta"] = l.lrnBeta;
        o["k"] = l.lrnK;
        break;
    case LayerKind::Dropout: o["p"] = l.dropoutP; break;
    case LayerKind::BatchNorm: o["in_channels"] = static_cast<qint64>(input.dims.size() == 3 ? input.dims[0] : 0); break;
    case LayerKind::Relu:
    case LayerKind::Flatten: break;
    }
    return o;
}

// Reads an integer member; absent members keep `fallback`, non-integers are an error.
bool readInt(const QJsonObject& o, const char* key, int64_t& out, std::string& error, const std::string& where) {
    if (!o.contains(key)) return true;
    const QJsonValue v = o.value(key);
    if (!v.isDouble() || v.toDouble() != static_cast<double>(v.toInteger())) {
        error = where + ": '" + key + "' must be an integer";
        return false;
    }
    out = v.toInteger();
    return true;
}

bool readDouble(const QJsonObject& o, const char* key, double& out, std::string& error, const std::string& where) {
    if (!o.contains(key)) return true;
    const QJsonValue v = o.value(key);
    if (!v.isDouble()) {
        error = where + ": '" + key + "' must be a number";
        return false;
    }
    out = v.toDouble();
    return true;
}

Result<LayerSpec> layerFromJson(const QJsonValue& value, const std::string& where) {
    if (!value.isObject()) return makeError(where + ": a layer must be a JSON object");
    const QJsonObject o = value.toObject();
    if (!o.value("kind").isString()) return makeError(where + ": missing 'kind'");
    auto kind = layerKindFromName(o.value("kind").toString().toStdString());
    if (!kind) return makeError(where + ": " + kind.error());
    LayerSpec l;
    l.kind = *kind;
    l.name = o.value("name").toString().toStdString();
    if (l.kind == LayerKind::MaxPool) l.stride = 0;  // defaults to the kernel below
    std::string error;
    const bool ok = readInt(o, "in_channels", l.inChannels, error, where) &&
                    readInt(o, "out_channels", l.outChannels, error, where) && readInt(o, "kernel", l.kernel, error, where) &&
                    readInt(o, "stride", l.stride, error, where) && readInt(o, "padding", l.padding, error, where) &&
                    readInt(o, "groups", l.groups, error, where) &&
                    readInt(o, "in_features", l.inFeatures, error, where) &&
                    readInt(o, "out_features", l.outFeatures, error, where) && readInt(o, "size", l.lrnSize, error, where) &&
                    readDouble(o, "alpha", l.lrnAlpha, error, where) && readDouble(o, "beta", l.lrnBeta, error, where) &&
                    readDouble(o, "k", l.lrnK, error, where) && readDouble(o, "p", l.dropoutP, error, where);
    if (!ok) return makeError(error);
    if (l.kind == LayerKind::MaxPool && l.stride == 0) l.stride = l.kernel;
    return l;
}

Result<std::vector<LayerSpec>> layersFromJson(const QJsonValue& value, const std::string& where) {
    if (!value.isArray()) return makeError(where + " must be an array of layers");
    std::vector<LayerSpec> layers;
    const QJsonArray a = value.toArray();
    for (qsizetype i = 0; i < a.size(); ++i) {
        auto l = layerFromJson(a.at(i), where + "[" + std::to_string(i) + "]");
        if (!l) return makeError(l.error());
        layers.push_back(std::move(l).value());
    }
    return layers;
}

QJsonObject specToJsonObject(const ModelSpec& spec) {
    QJsonObject root;
    root["name"] = QString::fromStdString(spec.name);
    QJsonObject input;
    QJsonArray shape;
    for (int64_t d : spec.input.dims) shape.append(static_cast<qint64>(d));
    input["shape"] = shape;
    input["mean"] = static_cast<double>(spec.inputMean);
    input["std"] = static_cast<double>(spec.inputStd);
    root["input"] = input;
    root["num_classes"] = static_cast<qint64>(spec.numClasses);
    QJsonArray classes;
    for (const auto& c : spec.classNames) classes.append(QString::fromStdString(c));
    root["class_names"] = classes;

    // Declared input sizes come from shape inference along the deepest path that covers
    // each trunk layer, so a reader can check the file by eye.
    std::vector<Shape> trunkInputs(spec.trunk.size());
    std::vector<std::vector<Shape>> branchInputs(spec.exits.size());
    for (int e = 0; e < spec.numExits(); ++e) {
        auto path = analyzePath(spec, e);
        if (!path) continue;
        const ExitSpec& ex = spec.exits[static_cast<size_t>(e)];
        for (int i = 0; i < ex.attach; ++i) trunkInputs[static_cast<size_t>(i)] = (*path)[static_cast<size_t>(i)].input;
        for (size_t j = 0; j < ex.branch.size(); ++j)
            branchInputs[static_cast<size_t>(e)].push_back((*path)[static_cast<size_t>(ex.attach) + j].input);
    }
    QJsonArray trunk;
    for (size_t i = 0; i < spec.trunk.size(); ++i) trunk.append(layerToJson(spec.trunk[i], trunkInputs[i]));
    root["trunk"] = trunk;
    QJsonArray exits;
    for (size_t e = 0; e < spec.exits.size(); ++e) {
        const ExitSpec& ex = spec.exits[e];
        QJsonObject o;
        o["name"] = QString::fromStdString(ex.name);
        o["attach"] = ex.attach;
        QJsonArray branch;
        for (size_t j = 0; j < ex.branch.size(); ++j)
            branch.append(layerToJson(ex.branch[j], j < branchInputs[e].size() ? branchInputs[e][j] : Shape{}));
        o["branch"] = branch;
        if (!ex.appeal.empty()) {
            auto head = analyzeAppeal(spec, static_cast<int>(e));
            QJsonArray appeal;
            for (size_t j = 0; j < ex.appeal.size(); ++j)
                appeal.append(layerToJson(ex.appeal[j], head && j < head->size() ? (*head)[j].input : Shape{}));
            o["appeal"] = appeal;
            if (ex.appealOnLogits) o["appeal_input"] = "logits";
        }
        exits.append(o);
    }
    root["exits"] = exits;
    if (!spec.exitAccuracy.empty()) {
        QJsonArray acc;
        for (double a : spec.exitAccuracy) acc.append(a);
        root["exit_accuracy"] = acc;
        root["accuracy_dataset"] = QString::fromStdString(spec.accuracyDataset);
    }
    return root;
}

Result<ModelSpec> specFromJsonObject(const QJsonObject& root, const std::string& origin) {
    ModelSpec spec;
    spec.name = root.value("name").toString().toStdString();
    const QJsonObject input = root.value("input").toObject();
    const QJsonArray shape = input.value("shape").toArray();
    if (shape.size() != 3) return makeError(origin + ": input.shape must be [channels, height, width]");
    for (const auto& d : shape) {
        if (!d.isDouble() || d.toInteger() <= 0) return makeError(origin + ": input.shape must hold positive integers");
        spec.input.dims.push_back(d.toInteger());
    }
    spec.inputMean = static_cast<float>(input.value("mean").toDouble(0.0));
    spec.inputStd = static_cast<float>(input.value("std").toDouble(1.0));
    if (!(spec.inputStd > 0.0f)) return makeError(origin + ": input.std must be positive");
    if (!root.value("num_classes").isDouble()) return makeError(origin + ": missing num_classes");
    spec.numClasses = root.value("num_classes").toInteger();
    for (const auto& c : root.value("class_names").toArray()) spec.classNames.push_back(c.toString().toStdString());

    auto trunk = layersFromJson(root.value("trunk"), origin + ": trunk");
    if (!trunk) return makeError(trunk.error());
    spec.trunk = std::move(trunk).value();
    if (!root.value("exits").isArray()) return makeError(origin + ": 'exits' must be an array");
    const QJsonArray exits = root.value("exits").toArray();
    for (qsizetype e = 0; e < exits.size(); ++e) {
        const std::string where = origin + ": exits[" + std::to_string(e) + "]";
        const QJsonObject o = exits.at(e).toObject();
        if (!o.value("attach").isDouble()) return makeError(where + ": missing 'attach'");
        ExitSpec ex;
        ex.name = o.value("name").toString(QStringLiteral("exit%1").arg(e)).toStdString();
        ex.attach = o.value("attach").toInt(-1);
        auto branch = layersFromJson(o.value("branch"), where + ".branch");
        if (!branch) return makeError(branch.error());
        ex.branch = std::move(branch).value();
        if (o.contains("appeal")) {
            auto appeal = layersFromJson(o.value("appeal"), where + ".appeal");
            if (!appeal) return makeError(appeal.error());
            ex.appeal = std::move(appeal).value();
            const QString input = o.value("appeal_input").toString(QStringLiteral("features"));
            if (input != "features" && input != "logits")
                return makeError(where + ": appeal_input must be features or logits, got '" + input.toStdString() + "'");
            ex.appealOnLogits = input == "logits";
        }
        spec.exits.push_back(std::move(ex));
    }
    for (const auto& a : root.value("exit_accuracy").toArray()) spec.exitAccuracy.push_back(a.toDouble());
    spec.accuracyDataset = root.value("accuracy_dataset").toString().toStdString();
    if (auto status = validateSpec(spec); !status) return makeError(origin + ": " + status.error());
    return spec;
}

}  // namespace

Result<ModelSpec> parseModelSpec(const std::string& jsonText, const std::string& origin) {
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(jsonText), &parseError);
    if (doc.isNull())
        return makeError(origin + ": not valid JSON (" + parseError.errorString().toStdString() + " at offset " +
                         std::to_string(parseError.offset) + ")");
    if (!doc.isObject()) return makeError(origin + ": expected a JSON object");
    return specFromJsonObject(doc.object(), origin);
}

Result<ModelFile> parseModelFile(const std::string& jsonText, const std::string& origin, const std::string& baseDir) {
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(jsonText), &parseError);
    if (doc.isNull())
        return makeError(origin + " is not valid JSON (" + parseError.errorString().toStdString() + " at offset " +
                         std::to_string(parseError.offset) + ")");
    const QJsonObject root = doc.object();
    if (root.value("format").toString() != kFormatName)
        return makeError(origin + " is not an Edgent model (format is not \"edgent-model\")");
    const int version = root.value("format_version").toInt(-1);
    if (version != ModelSpec::kFormatVersion)
        return makeError(origin + " has format_version " + std::to_string(version) + "; this build reads version " +
                         std::to_string(ModelSpec::kFormatVersion));
    auto spec = specFromJsonObject(root, origin);
    if (!spec) return makeError(spec.error());

    ModelFile out;
    out.spec = std::move(spec).value();
    const QJsonObject weights = root.value("weights").toObject();
    const QString weightsFile = weights.value("file").toString();
    if (weightsFile.isEmpty()) return makeError(origin + " names no weights file");
    out.weightsPath = QDir(QString::fromStdString(baseDir)).absoluteFilePath(weightsFile).toStdString();
    out.weightsBytes = weights.value("bytes").toInteger(-1);
    bool crcOk = false;
    out.weightsCrc32 = weights.value("crc32").toString().toUInt(&crcOk, 16);
    if (!crcOk || out.weightsBytes < 0) return makeError(origin + ": weights needs 'bytes' and a hex 'crc32'");
    out.trainingJson = QJsonDocument(root.value("training").toObject()).toJson(QJsonDocument::Compact).toStdString();
    return out;
}

Result<ModelFile> readModelFile(const std::string& jsonPath) {
    QFile file(QString::fromStdString(jsonPath));
    if (!file.exists()) return makeError("model file " + jsonPath + " does not exist");
    if (!file.open(QIODevice::ReadOnly))
        return makeError("cannot read model file " + jsonPath + ": " + file.errorString().toStdString());
    constexpr qint64 kMaxSpecBytes = 16 * 1024 * 1024;
    if (file.size() > kMaxSpecBytes) return makeError("model file " + jsonPath + " is too large for a model spec");
    auto parsed = parseModelFile(file.readAll().toStdString(), "model file " + jsonPath,
                                 QFileInfo(file).dir().absolutePath().toStdString());
    if (!parsed) return parsed;
    parsed->path = jsonPath;
    return parsed;
}

std::string modelFileJson(const ModelSpec& spec, const std::string& weightsFile, int64_t weightsBytes, uint32_t weightsCrc32,
                          const std::string& trainingJson) {
    QJsonObject root = specToJsonObject(spec);
    root["format"] = kFormatName;
    root["format_version"] = ModelSpec::kFormatVersion;
    QJsonObject weights;
    weights["file"] = QString::fromStdString(weightsFile);
    weights["bytes"] = static_cast<qint64>(weightsBytes);
    weights["crc32"] = QStringLiteral("%1").arg(weightsCrc32, 8, 16, QLatin1Char('0'));
    weights["dtype"] = "float32";
    weights["byte_order"] = "little-endian";
    root["weights"] = weights;
    const QJsonDocument training = QJsonDocument::fromJson(QByteArray::fromStdString(trainingJson));
    if (training.isObject()) root["training"] = training.object();
    return QJsonDocument(root).toJson(QJsonDocument::Indented).toStdString();
}

std::string specJson(const ModelSpec& spec) {
    return QJsonDocument(specToJsonObject(spec)).toJson(QJsonDocument::Compact).toStdString();
}

Result<std::string> readFileBytes(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) return makeError("cannot read " + path + ": " + f.errorString().toStdString());
    return f.readAll().toStdString();
}

Result<ModelBytes> readModelBytes(const std::string& jsonPath) {
    auto file = readModelFile(jsonPath);
    if (!file) return makeError(file.error());
    auto spec = readFileBytes(jsonPath);
    if (!spec) return makeError(spec.error());
    auto weights = readFileBytes(file->weightsPath);
    if (!weights) return makeError(weights.error());
    return ModelBytes{std::move(file).value(), std::move(spec).value(), std::move(weights).value()};
}

Status writeFileAtomically(const std::string& path, const std::string& bytes) {
    QSaveFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::WriteOnly)) return makeError("cannot write " + path + ": " + file.errorString().toStdString());
    if (file.write(bytes.data(), static_cast<qint64>(bytes.size())) != static_cast<qint64>(bytes.size())) {
        file.cancelWriting();
        return makeError("cannot write " + path + ": " + file.errorString().toStdString());
    }
    if (!file.commit()) return makeError("cannot write " + path + ": " + file.errorString().toStdString());
    return Status::success();
}

std::string defaultModelPath() {
    const QByteArray env = qgetenv("EDGENT_DEFAULT_MODEL");
    if (!env.isEmpty()) return env.toStdString();
#ifdef EDGENT_DEFAULT_MODEL_PATH
    return EDGENT_DEFAULT_MODEL_PATH;
#else
    return "datasets/default-model/fmnist-alexnet5.json";
#endif
}

}  // namespace edgent::core
