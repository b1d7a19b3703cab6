#pragma once
// CurveZMQ key files for workers on a real network. A key folder holds four Z85 lines:
//   server.pub, server.secret   the workers' (server) key pair
//   client.pub, client.secret   the controller's and the device's client key pair
// Workers accept only the client key in client.pub (and any *.pub under authorized/);
// a peer without the server's public key cannot even complete the handshake.

#include "core/util/Result.h"

#include <set>
#include <string>

namespace edgent::core::net {

struct CurveKeys {
    std::string serverPublic, serverSecret;
    std::string clientPublic, clientSecret;
    std::set<std::string> authorizedClients;  // Z85 public keys
};

// Reads the folder; needServerSecret is true for workers.
Result<CurveKeys> loadCurveKeys(const std::string& dir, bool needServerSecret);
// Creates the folder with two fresh key pairs (files readable by the owner only).
Status generateCurveKeys(const std::string& dir);
bool curveAvailable();

}  // namespace edgent::core::net
