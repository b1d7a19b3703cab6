#pragma once
// Small helpers shared by the Qt Test executables.

#include <QByteArray>
#include <QFile>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <string>
#include <vector>

namespace edgent::test {

inline QString dataPath(const QString& name) { return QStringLiteral(EDGENT_TEST_DATA_DIR "/") + name; }
inline std::string dataFile(const char* name) { return dataPath(QString::fromUtf8(name)).toStdString(); }
// The shipped default model; EDGENT_DEFAULT_MODEL overrides it, as it does for the CLI.
inline std::string defaultModel() {
    const QByteArray env = qgetenv("EDGENT_DEFAULT_MODEL");
    return env.isEmpty() ? std::string(EDGENT_DEFAULT_MODEL_PATH) : env.toStdString();
}

// A file's bytes, or an empty string when it cannot be read.
inline std::string readFile(const std::string& path) {
    QFile f(QString::fromStdString(path));
    return f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
}
// Writes `text` to the file `name` in `dir`; its path, or an empty string when it cannot be written.
inline QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& text) {
    QFile f(dir.filePath(name));
    if (!f.open(QIODevice::WriteOnly) || f.write(text) != text.size()) return {};
    return f.fileName();
}
// A native model as a worker loads it: the spec (.json) and the weights beside it (.weights).
inline std::vector<std::string> modelBytes(const std::string& json) {
    return {readFile(json), readFile(json.substr(0, json.size() - 5) + ".weights")};
}

// Every shipped model: the default one, then the other architectures in datasets/models
// (a VGG-style and a MobileNet-style net with depthwise convolutions).
inline std::vector<std::string> shippedModels() {
    return {defaultModel(), EDGENT_MODELS_DIR "/fmnist-vgg3.json", EDGENT_MODELS_DIR "/fmnist-mobilenet3.json"};
}

// One `edgent` command: its exit code (-1 when it did not finish in time) and its output.
struct CliRun {
    int code = -1;
    QByteArray out;
    QByteArray err;
};
// Commands run with their own XDG_DATA_HOME, so that the default run database of the user running the
// tests is never read or written.
inline CliRun runCli(const QStringList& args, int timeoutMs = 120000) {
    static QTemporaryDir home;
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_DATA_HOME"), home.filePath(QStringLiteral("data")));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(EDGENT_CLI_PATH), args);
    CliRun r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(5000);
        return r;
    }
    r.code = p.exitCode();
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

}  // namespace edgent::test
