#pragma once
// Small helpers shared by the Qt Test executables.

#include <QByteArray>
#include <QString>

#include <string>

namespace edgent::test {

inline QString dataPath(const QString& name) { return QStringLiteral(EDGENT_TEST_DATA_DIR "/") + name; }
inline std::string dataFile(const char* name) { return dataPath(QString::fromUtf8(name)).toStdString(); }
// The shipped default model; EDGENT_DEFAULT_MODEL overrides it, as it does for the CLI.
inline std::string defaultModel() {
    const QByteArray env = qgetenv("EDGENT_DEFAULT_MODEL");
    return env.isEmpty() ? std::string(EDGENT_DEFAULT_MODEL_PATH) : env.toStdString();
}

}  // namespace edgent::test
