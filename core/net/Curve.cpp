#include "core/net/Curve.h"

#include "core/model/ModelFile.h"

#include <QDir>
#include <QFile>

#include <zmq.h>

#include <sys/stat.h>

namespace edgent::core::net {

namespace {

Result<std::string> readKey(const QDir& dir, const QString& name) {
    QFile f(dir.filePath(name));
    if (!f.open(QIODevice::ReadOnly)) return makeError("CURVE key " + f.fileName().toStdString() + " cannot be read");
    const std::string key = f.readAll().trimmed().toStdString();
    if (key.size() != 40) return makeError("CURVE key " + f.fileName().toStdString() + " is not a 40-character Z85 key");
    return key;
}

}  // namespace

bool curveAvailable() { return zmq_has("curve") != 0; }

Result<CurveKeys> loadCurveKeys(const std::string& dirPath, bool needServerSecret) {
    if (!curveAvailable()) return makeError("this libzmq was built without CURVE support");
    const QDir dir(QString::fromStdString(dirPath));
    if (!dir.exists()) return makeError("CURVE key folder " + dirPath + " does not exist");
    CurveKeys keys;
    auto serverPublic = readKey(dir, "server.pub");
    if (!serverPublic) return makeError(serverPublic.error());
    keys.serverPublic = *serverPublic;
    if (needServerSecret) {
        auto secret = readKey(dir, "server.secret");
        if (!secret) return makeError(secret.error());
        keys.serverSecret = *secret;
    }
    auto clientPublic = readKey(dir, "client.pub");
    auto clientSecret = readKey(dir, "client.secret");
    if (!clientPublic) return makeError(clientPublic.error());
    if (!clientSecret) return makeError(clientSecret.error());
    keys.clientPublic = *clientPublic;
    keys.clientSecret = *clientSecret;
    keys.authorizedClients.insert(keys.clientPublic);
    const QDir authorized(dir.filePath("authorized"));
    for (const QString& f : authorized.entryList({"*.pub"}, QDir::Files)) {
        auto key = readKey(authorized, f);
        if (!key) return makeError(key.error());
        keys.authorizedClients.insert(*key);
    }
    return keys;
}

Status generateCurveKeys(const std::string& dirPath) {
    if (!curveAvailable()) return makeError("this libzmq was built without CURVE support");
    if (!QDir().mkpath(QString::fromStdString(dirPath))) return makeError("cannot create " + dirPath);
    const QDir dir(QString::fromStdString(dirPath));
    // Secret keys must never exist with looser permissions, not even for a moment.
    const mode_t previous = ::umask(077);
    struct RestoreUmask {
        mode_t mask;
        ~RestoreUmask() { ::umask(mask); }
    } restore{previous};
    for (const char* who : {"server", "client"}) {
        char pub[41] = {}, secret[41] = {};
        if (zmq_curve_keypair(pub, secret) != 0) return makeError("zmq_curve_keypair failed");
        const QString base = dir.filePath(who);
        if (auto s = writeFileAtomically((base + ".pub").toStdString(), std::string(pub) + "\n"); !s) return s;
        if (auto s = writeFileAtomically((base + ".secret").toStdString(), std::string(secret) + "\n"); !s) return s;
        if (!QFile::setPermissions(base + ".secret", QFile::ReadOwner | QFile::WriteOwner))
            return makeError("cannot restrict the permissions of " + (base + ".secret").toStdString());
    }
    return Status::success();
}

}  // namespace edgent::core::net
