// Co-inference on two real edgent-worker processes over real loopback sockets.
#include "TestUtil.h"

#include "core/control/Controller.h"
#include "core/control/LocalWorkers.h"
#include "core/data/Dataset.h"
#include "core/model/ModelFile.h"
#include "core/model/ModelIO.h"
#include "core/net/Frame.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QtTest>

#include <map>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <sys/resource.h>

using namespace edgent::core;
using namespace edgent::core::control;
using namespace edgent::core::net;
using edgent::core::net::Command;
using edgent::core::net::EventKind;
using Clock = std::chrono::steady_clock;

class TestCoInference : public QObject {
    Q_OBJECT

    SpawnedWorker device_, edge_;
    std::unique_ptr<Controller> controller_;
    Controller::Subscription subscription_;
    std::shared_ptr<MultiExitNet> net_;
    ImageSet images_;

    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Sample> samples_;
    std::vector<WorkerEvent> events_;

    void clear() {
        std::lock_guard lock(mutex_);
        samples_.clear();
        events_.clear();
    }

    // Waits until `n` samples arrived or a stream ended; bounded by timeoutMs.
    bool waitForSamples(size_t n, int timeoutMs) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] {
            if (samples_.size() >= n) return true;
            for (const auto& e : events_)
                if (e.kind == EventKind::StreamError) return true;
            return false;
        });
    }

    bool waitForEvent(EventKind kind, Role role, int timeoutMs, WorkerEvent* out = nullptr) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] {
            for (const auto& e : events_)
                if (e.kind == kind && e.role == role) {
                    if (out) *out = e;
                    return true;
                }
            return false;
        });
    }

    // Sends one raw control message from a socket of its own and returns the reply (heartbeats
    // skipped), or an empty object after 5 s.
    static QJsonObject rawReply(const std::string& endpoint, const std::string& message) {
        zmq::context_t ctx;
        zmq::socket_t s(ctx, zmq::socket_type::dealer);
        s.set(zmq::sockopt::linger, 0);
        s.connect(endpoint);
        s.send(zmq::buffer(message), zmq::send_flags::none);
        zmq::pollitem_t items[] = {{s.handle(), 0, ZMQ_POLLIN, 0}};
        const auto deadline = Clock::now() + std::chrono::seconds(5);
        while (Clock::now() < deadline) {
            if (zmq::poll(items, 1, std::chrono::milliseconds(200)) == 0) continue;
            zmq::message_t m;
            if (!s.recv(m)) continue;
            const QJsonObject o = QJsonDocument::fromJson(QByteArray(m.data<char>(), static_cast<qsizetype>(m.size()))).object();
            if (o.value("type").toString() == "reply") return o;
        }
        return {};
    }

    std::vector<Sample> runBatch(int exit, int partition, double bandwidthBps, int count, int64_t offset = 0,
                                 const char* codec = "fp32") {
        clear();
        QJsonObject cfg{{"exit", exit}, {"partition", partition}, {"bandwidth_bps", bandwidthBps}, {"codec", codec}};
        auto r = controller_->call(Role::Device, Command::Configure, cfg);
        if (!r) qWarning("%s", r.error().c_str());
        auto s = controller_->call(Role::Device, Command::StartStream,
                                   QJsonObject{{"count", count}, {"offset", static_cast<qint64>(offset)}});
        if (!s) qWarning("%s", s.error().c_str());
        waitForEvent(EventKind::StreamFinished, Role::Device, 60000);
        std::lock_guard lock(mutex_);
        return samples_;
    }

    void startWorkers() {
        QVERIFY2(spawnWorker(edge_, Role::Edge, 1, {}).ok(), "edge worker starts");
        QVERIFY2(spawnWorker(device_, Role::Device, 1, {}).ok(), "device worker starts");
        controller_ = std::make_unique<Controller>();
        subscription_ = controller_->subscribe(
            [this](const Sample& s) {
                std::lock_guard lock(mutex_);
                samples_.push_back(s);
                changed_.notify_all();
            },
            [this](const WorkerEvent& e) {
                std::lock_guard lock(mutex_);
                events_.push_back(e);
                changed_.notify_all();
            });
        auto s = controller_->connect(Role::Edge, edge_.controlEndpoint);
        QVERIFY2(s.ok(), s.error().c_str());
        s = controller_->connect(Role::Device, device_.controlEndpoint);
        QVERIFY2(s.ok(), s.error().c_str());
        const std::vector<std::string> files = edgent::test::modelBytes(edgent::test::defaultModel());
        for (Role r : {Role::Edge, Role::Device}) {
            auto loaded = controller_->call(r, Command::LoadModel, {}, 20000, files);
            QVERIFY2(loaded.ok(), loaded.error().c_str());
        }
        auto cfg =
            controller_->call(Role::Device, Command::Configure,
                              QJsonObject{{"edge_endpoint", QString::fromStdString(controller_->info(Role::Edge).dataEndpoint)}});
        QVERIFY2(cfg.ok(), cfg.error().c_str());
    }

private Q_SLOTS:
    void initTestCase() {
        torch::set_num_threads(1);
        auto net = loadModel(edgent::test::defaultModel());
        QVERIFY2(net.ok(), net.error().c_str());
        net_ = *net;
        auto ds = openDataset("fashion-mnist");
        QVERIFY(ds.ok());
        auto test = (*ds)->load(Split::Test, 64);
        QVERIFY(test.ok());
        images_ = std::move(test).value();
        startWorkers();
    }

    void helloReportsRoleVersionsAndThreads() {
        const WorkerInfo d = controller_->info(Role::Device);
        const WorkerInfo e = controller_->info(Role::Edge);
        QVERIFY(d.alive && e.alive);
        QCOMPARE(d.hello.value("role").toString(), QStringLiteral("device"));
        QCOMPARE(e.hello.value("role").toString(), QStringLiteral("edge"));
        QCOMPARE(d.hello.value("protocol").toInt(), kProtocolVersion);
        QVERIFY(!d.hello.value("libtorch").toString().isEmpty());
        QCOMPARE(d.hello.value("threads").toInt(), 1);
        QVERIFY(e.dataEndpoint.rfind("tcp://127.0.0.1:", 0) == 0);
    }

    void predictionsMatchTheLocalForwardForEveryExitAndASpreadOfPartitions() {
        torch::InferenceMode guard;
        const torch::Tensor x = net_->preprocess(torch::from_blob(images_.pixels.data(), {16, 1, 28, 28}, torch::kUInt8).clone());
        for (int e = 0; e < net_->numExits(); ++e) {
            const int n = net_->pathLength(e);
            const std::vector<int> partitions{0, 1, n / 2, n - 1, n};
            const torch::Tensor local = net_->forwardExit(e, x).value().argmax(1);
            for (int p : partitions) {
                const auto samples = runBatch(e, p, 0.0, 16);
                QCOMPARE(samples.size(), size_t(16));
                for (const Sample& s : samples) {
                    QCOMPARE(s.exit, e);
                    QCOMPARE(s.partition, p);
                    QCOMPARE(s.label, static_cast<int>(images_.labels[static_cast<size_t>(s.imageIndex)]));
                    QVERIFY2(s.prediction == local[s.imageIndex].item<int>(),
                             qPrintable(QStringLiteral("exit %1 partition %2 image %3").arg(e).arg(p).arg(s.imageIndex)));
                    // Bytes on the wire: the tensor plus the 40-byte header and 4 bytes per dimension.
                    const int64_t tensor = transferBytes(net_->spec(), net_->pathInfo(e), p);
                    const int64_t dims =
                        p == 0
                            ? 3
                            : static_cast<int64_t>(p < n ? net_->pathInfo(e)[static_cast<size_t>(p - 1)].output.dims.size() : 0);
                    QCOMPARE(s.bytesSent, tensor == 0 ? int64_t(0) : tensor + static_cast<int64_t>(edgent::core::net::kFrameHeaderBytes) + 4 * dims);
                    QVERIFY(s.totalMs >= s.deviceMs);
                    if (p == n)
                        QCOMPARE(s.edgeMs, 0.0);
                    else
                        QVERIFY(s.edgeMs > 0.0);
                }
            }
        }
    }

    // Every codec through the real workers: the device encodes, the edge decodes, each timed;
    // lossless codecs keep every prediction, lossy ones nearly every one, and int8 cuts the
    // cut tensor's frame at least 3x (the header and the per-channel scales stay).
    void everyCodecCarriesTheTensorThroughRealWorkers() {
        torch::InferenceMode guard;
        const torch::Tensor x = net_->preprocess(torch::from_blob(images_.pixels.data(), {16, 1, 28, 28}, torch::kUInt8).clone());
        const int e = 4;
        const int n = net_->pathLength(e);
        const torch::Tensor local = net_->forwardExit(e, x).value().argmax(1);
        for (int p : {0, n / 2, n - 1}) {
            std::map<std::string, double> bytes;
            for (Codec codec : allCodecs()) {
                const std::string name = codecName(codec);
                const auto samples = runBatch(e, p, 0.0, 16, 0, name.c_str());
                QCOMPARE(samples.size(), size_t(16));
                int agree = 0;
                for (const Sample& s : samples) {
                    QCOMPARE(s.codec, name);
                    agree += s.prediction == local[s.imageIndex].item<int>();
                    bytes[name] += static_cast<double>(s.bytesSent) / 16.0;
                    // Work is timed only where the codec does some: quantisation on a cut
                    // tensor, the lossless stage anywhere.
                    const bool works = codec.lossless != Lossless::None || (p > 0 && codec.quant != Quant::None);
                    QVERIFY2(works ? s.encodeMs > 0 && s.decodeMs > 0 : s.encodeMs == 0 && s.decodeMs == 0,
                             qPrintable(QString("%1 at p %2: encode %3 decode %4").arg(name.c_str()).arg(p).arg(s.encodeMs).arg(s.decodeMs)));
                }
                const bool lossless = codec.quant == Quant::None || p == 0;
                QVERIFY2(lossless ? agree == 16 : agree >= 14, qPrintable(QString("%1 at p %2: %3 of 16").arg(name.c_str()).arg(p).arg(agree)));
            }
            if (p > 0) QVERIFY2(bytes["int8"] * 3 <= bytes["fp32"], qPrintable(QString::number(bytes["int8"])));
            else QVERIFY2(bytes["int8"] == bytes["fp32"] && bytes["fp32+zstd"] < bytes["fp32"], "the raw input: only zstd changes it");
        }
        // A codec the worker does not know is refused with the known ones named.
        auto bad = controller_->call(Role::Device, Command::Configure, QJsonObject{{"codec", "int3"}});
        QVERIFY(!bad.ok() && bad.error().find("unknown codec 'int3'") != std::string::npos);
        QVERIFY(controller_->call(Role::Device, Command::Configure, QJsonObject{{"codec", "fp32"}}).ok());
    }

    void shaperTransferTimeFollowsBytesOverBandwidth() {
        // exit 4, p = 4: a 32x14x14 float map, 25,144 bytes on the wire; at 1 Mbps about 201 ms.
        const double bps = 1e6;
        const auto samples = runBatch(4, 4, bps, 5);
        QCOMPARE(samples.size(), size_t(5));
        std::vector<double> ratios;
        for (const Sample& s : samples) ratios.push_back(s.transferMs / (static_cast<double>(s.bytesSent) * 8.0 / bps * 1000.0));
        std::sort(ratios.begin(), ratios.end());
        const double median = ratios[2];
        QVERIFY2(median > 0.99 && median < 1.05, qPrintable(QStringLiteral("median transfer / (bytes/B) = %1").arg(median)));
        QVERIFY(samples[2].throughputBps > 0.95 * bps && samples[2].throughputBps < 1.01 * bps);
    }

    void liveReconfigurationTakesEffectOnTheNextInference() {
        clear();
        QVERIFY(controller_
                    ->call(Role::Device, Command::Configure, QJsonObject{{"exit", 1}, {"partition", 2}, {"bandwidth_bps", 50e6}})
                    .ok());
        QVERIFY(controller_->call(Role::Device, Command::StartStream, QJsonObject{{"count", 0}, {"rate_hz", 100.0}}).ok());
        QVERIFY(waitForSamples(10, 20000));
        uint64_t lastSeqBefore;
        {
            std::lock_guard lock(mutex_);
            lastSeqBefore = samples_.back().sequence;
        }
        QVERIFY(controller_
                    ->call(Role::Device, Command::Configure, QJsonObject{{"exit", 3}, {"partition", 0}, {"bandwidth_bps", 20e6}})
                    .ok());
        const size_t seen = [&] {
            std::lock_guard lock(mutex_);
            return samples_.size();
        }();
        QVERIFY(waitForSamples(seen + 15, 20000));
        QVERIFY(controller_->call(Role::Device, Command::Stop).ok());
        std::lock_guard lock(mutex_);
        int oldAfterReply = 0;
        bool sawNew = false;
        for (const Sample& s : samples_) {
            if (s.exit == 3) {
                sawNew = true;
                QCOMPARE(s.partition, 0);
                QCOMPARE(s.bandwidthBps, 20e6);
                QVERIFY(s.sequence > lastSeqBefore);
            } else if (sawNew) {
                QFAIL("an old configuration came back after the new one took effect");
            } else if (s.sequence > lastSeqBefore + 1) {
                ++oldAfterReply;
            }
        }
        QVERIFY(sawNew);
        // The inference in flight when the reply arrived may finish with the old settings;
        // everything started afterwards uses the new ones (no restart, no reconnect).
        QVERIFY2(oldAfterReply <= 1, qPrintable(QString::number(oldAfterReply)));
    }

    void garbageFramesAreDroppedCountedAndTheEdgeKeepsServing() {
        const auto before = controller_->call(Role::Edge, Command::Stats);
        QVERIFY(before.ok());
        const qint64 badBefore = before->value("stats").toObject().value("frames_bad").toInteger();
        zmq::context_t ctx;
        zmq::socket_t s(ctx, zmq::socket_type::dealer);
        s.set(zmq::sockopt::linger, 0);
        s.connect(controller_->info(Role::Edge).dataEndpoint);
        std::string valid;
        FrameHeader h;
        h.dtype = DType::UInt8;
        h.dims = {1, 28, 28};
        QVERIFY(encodeFrame(h, images_.image(0), 784, valid).ok());
        std::string wrongShape;
        h.dims = {1, 27, 28};
        QVERIFY(encodeFrame(h, images_.image(0), 27 * 28, wrongShape).ok());
        std::string badMagic = valid;
        badMagic[1] = '?';
        // A zstd input whose content is 700 bytes where the shape needs 784: the header checks
        // pass, the edge's decode refuses it.
        std::string zstdLie, z;
        h.dims = {1, 28, 28};
        h.codec = {Quant::None, Lossless::Zstd};
        QVERIFY(encodeBytes(Lossless::Zstd, images_.image(0), 700, z).ok());
        QVERIFY(encodeFrame(h, z.data(), z.size(), zstdLie).ok());
        const std::vector<std::string> garbage{
            "", "hello", std::string(39, '\0'), badMagic, valid.substr(0, 100), valid + "tail", wrongShape, zstdLie};
        for (const auto& g : garbage) s.send(zmq::buffer(g), zmq::send_flags::none);
        // Three-part messages are malformed too.
        s.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
        s.send(zmq::str_buffer("b"), zmq::send_flags::none);
        const int expected = static_cast<int>(garbage.size()) + 1;
        qint64 bad = 0;
        for (int i = 0; i < 100 && bad < badBefore + expected; ++i) {
            QTest::qWait(20);
            bad = controller_->call(Role::Edge, Command::Stats)->value("stats").toObject().value("frames_bad").toInteger();
        }
        QCOMPARE(bad, badBefore + expected);
        // The frame whose header decoded (the wrong shape) is answered with an error frame
        // naming the problem; the rest could not even be attributed. The valid frame still gets
        // its answer on this very socket.
        s.send(zmq::buffer(valid), zmq::send_flags::none);
        std::vector<FrameType> answers;
        zmq::pollitem_t items[] = {{s.handle(), 0, ZMQ_POLLIN, 0}};
        std::vector<std::string> refusals;
        while (answers.size() < 3 && zmq::poll(items, 1, std::chrono::milliseconds(5000)) == 1) {
            zmq::message_t reply;
            QVERIFY(s.recv(reply));
            auto decoded = decodeFrame(reply.data<uint8_t>(), reply.size());
            QVERIFY2(decoded.ok(), decoded.error().c_str());
            answers.push_back(decoded->header.type);
            if (decoded->header.type == FrameType::Error) refusals.push_back(errorFrameText(*decoded));
        }
        QCOMPARE(answers, (std::vector<FrameType>{FrameType::Error, FrameType::Error, FrameType::Result}));
        QVERIFY2(refusals[0].find("shape or dtype does not match") != std::string::npos, refusals[0].c_str());
        QVERIFY2(refusals[1].find("zstd payload holds 700 bytes") != std::string::npos, refusals[1].c_str());
        // And co-inference goes on.
        QCOMPARE(runBatch(4, 0, 0.0, 4).size(), size_t(4));
    }

    void wrongVersionHelloGetsAClearErrorAndTheWorkerSurvives() {
        zmq::context_t ctx;
        zmq::socket_t s(ctx, zmq::socket_type::dealer);
        s.set(zmq::sockopt::linger, 0);
        s.connect(device_.controlEndpoint);
        const QJsonObject reply = rawReply(device_.controlEndpoint, R"({"v":2,"type":"request","id":7,"cmd":"hello"})");
        QCOMPARE(reply.value("id").toInt(), 7);
        QCOMPARE(reply.value("ok").toBool(), false);
        QVERIFY2(reply.value("error").toString().contains("protocol version 2 is not supported"),
                 qPrintable(reply.value("error").toString()));
        // Garbage on the control channel gets an error reply too.
        s.send(zmq::str_buffer("not json at all"), zmq::send_flags::none);
        QVERIFY(controller_->call(Role::Device, Command::Hello).ok());
        const QJsonObject unknown =
            rawReply(device_.controlEndpoint, R"({"v":1,"type":"request","id":8,"cmd":"launch-rockets"})");
        QCOMPARE(unknown.value("ok").toBool(), false);
        QVERIFY2(unknown.value("error").toString().contains("unknown command 'launch-rockets'"),
                 qPrintable(unknown.value("error").toString()));
        auto badExit = controller_->call(Role::Device, Command::Configure, QJsonObject{{"exit", 9}});
        QVERIFY(!badExit.ok());
        QVERIFY(badExit.error().find("exit 9 is out of range") != std::string::npos);
    }

    // An edge whose LibTorch throws answers that frame with an error and goes on serving.
    // The error is real: a model whose second convolution writes a 67 MB output (larger than a
    // server thread's 64 MB malloc arena and glibc's 32 MB mmap threshold, so it must be mapped
    // anew), on an edge whose address space is capped just above what it holds, cannot
    // allocate it. This edge allocates with glibc's malloc (libc preloaded ahead of the
    // tcmalloc the programs link): tcmalloc keeps the buffers of the edge's warm-up pass at
    // load time and serves the frame from them, so a cap never bites.
    void aTorchErrorOnTheEdgeIsOneFramesErrorNotTheEdgesEnd() {
        const char* wide = R"({"format": "edgent-model", "format_version": 1, "name": "wide",
            "input": {"shape": [3, 256, 256], "mean": 0.0, "std": 1.0}, "num_classes": 10,
            "trunk": [{"kind": "conv", "name": "c1", "out_channels": 32, "kernel": 3, "stride": 1, "padding": 1},
                      {"kind": "conv", "name": "c2", "out_channels": 256, "kernel": 3, "stride": 1, "padding": 1},
                      {"kind": "maxpool", "name": "p", "kernel": 16},
                      {"kind": "flatten", "name": "f"}],
            "exits": [{"name": "only", "attach": 4, "branch": [{"kind": "fc", "name": "fc", "out_features": 10}]}]})";
        auto spec = parseModelSpec(wide, "wide");
        QVERIFY2(spec.ok(), spec.ok() ? "" : spec.error().c_str());
        auto net = MultiExitNet::create(*spec, 3);
        QVERIFY(net.ok());
        const std::string weights = encodeWeights(**net);
        const std::string json =
            modelFileJson(*spec, "wide.weights", static_cast<int64_t>(weights.size()), crc32Of(weights), "{}");

        SpawnedWorker edge;
#ifdef EDGENT_LINKS_TCMALLOC
        qputenv("LD_PRELOAD", "libc.so.6");
        const bool spawned = spawnWorker(edge, Role::Edge, 1, {}).ok();
        qunsetenv("LD_PRELOAD");
#else
        const bool spawned = spawnWorker(edge, Role::Edge, 1, {}).ok();
#endif
        QVERIFY(spawned);
        Controller c;
        QVERIFY(c.connect(Role::Edge, edge.controlEndpoint).ok());
        auto loaded = c.call(Role::Edge, Command::LoadModel, {}, 20000, {json, weights});
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().c_str());
        FrameHeader fh;
        fh.dtype = DType::UInt8;
        fh.dims = {3, 256, 256};
        const std::string pixels(3 * 256 * 256, '\x40');
        std::string frame;
        QVERIFY(encodeFrame(fh, pixels.data(), pixels.size(), frame).ok());
        zmq::context_t ctx;
        zmq::socket_t s(ctx, zmq::socket_type::dealer);
        s.set(zmq::sockopt::linger, 0);
        s.connect(c.info(Role::Edge).dataEndpoint);
        zmq::message_t reply;
        auto exchange = [&]() -> std::optional<FrameView> {
            s.send(zmq::buffer(frame), zmq::send_flags::none);
            zmq::pollitem_t items[] = {{s.handle(), 0, ZMQ_POLLIN, 0}};
            if (zmq::poll(items, 1, std::chrono::milliseconds(10000)) != 1 || !s.recv(reply)) return std::nullopt;
            auto d = decodeFrame(reply.data<uint8_t>(), reply.size());
            if (!d) return std::nullopt;
            return *d;
        };
        // Cap the edge's address space just above what it holds now, before it ever ran a slice.
        const pid_t pid = edge.process.pid();
        rlimit old{}, capped{};
        QCOMPARE(::prlimit(pid, RLIMIT_AS, nullptr, &old), 0);
        QFile status(QStringLiteral("/proc/%1/status").arg(pid));
        QVERIFY(status.open(QIODevice::ReadOnly));
        qint64 vmKb = 0;
        for (const QByteArray& line : status.readAll().split('\n'))
            if (line.startsWith("VmSize:")) vmKb = line.mid(7).trimmed().split(' ').first().toLongLong();
        QVERIFY(vmKb > 0);
        capped.rlim_cur = static_cast<rlim_t>(vmKb + 1024) * 1024;
        capped.rlim_max = old.rlim_max;
        QCOMPARE(::prlimit(pid, RLIMIT_AS, &capped, nullptr), 0);
        auto refused = exchange();
        const std::string refusal = refused && refused->header.type == FrameType::Error ? errorFrameText(*refused) : "";
        QCOMPARE(::prlimit(pid, RLIMIT_AS, &old, nullptr), 0);
        QVERIFY2(edge.process.running(), "the edge survived the error");
        QVERIFY(refused.has_value());
        QCOMPARE(refused->header.type, FrameType::Error);
        QVERIFY2(refusal.find("inference error") != std::string::npos, refusal.c_str());
        // Counted, and the edge serves the next frame.
        const auto stats = c.call(Role::Edge, Command::Stats);
        QVERIFY(stats.ok());
        QCOMPARE(stats->value("stats").toObject().value("frames_bad").toInteger(), qint64(1));
        auto again = exchange();
        QVERIFY(again.has_value());
        QCOMPARE(again->header.type, FrameType::Result);
        (void)c.call(Role::Edge, Command::Shutdown, {}, 2000);
        edge.process.stop(2000);
    }

    // When the controller's I/O thread ends on a socket error (here: its context is shut down,
    // so its poll fails with ETERM), every waiter hears why at once, and so does every later
    // request; nothing waits for its timeout and nothing throws.
    void aControllerWhoseSocketsFailAnswersEveryWaiterAtOnce() {
        SpawnedWorker edge;
        QVERIFY(spawnWorker(edge, Role::Edge, 1, {}).ok());
        Controller c;
        QVERIFY(c.connect(Role::Edge, edge.controlEndpoint).ok());
        std::vector<WorkerEvent> events;
        std::mutex m;
        auto sub = c.subscribe({}, [&](const WorkerEvent& e) {
            std::lock_guard lock(m);
            events.push_back(e);
        });
        ::kill(edge.process.pid(), SIGSTOP);  // it will not answer
        auto pending = c.request(Role::Edge, Command::Stats, {}, 20000);
        QElapsedTimer t;
        t.start();
        c.abort("closing");
        QCOMPARE(pending.wait_for(std::chrono::seconds(2)), std::future_status::ready);
        Result<QJsonObject> r = makeError("unset");
        try {
            r = pending.get();
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        QVERIFY(!r.ok());
        QVERIFY2(r.error().find("stopped: closing") != std::string::npos, r.error().c_str());
        auto later = c.call(Role::Edge, Command::Hello, {}, 20000);
        QVERIFY(!later.ok());
        QVERIFY2(t.elapsed() < 2000, qPrintable(QString::number(t.elapsed())));
        QVERIFY(!c.info(Role::Edge).alive);
        // Subscribers hear it too.
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                     std::lock_guard lock(m);
                                     for (const auto& e : events)
                                         if (e.kind == EventKind::WorkerDown) return true;
                                     return false;
                                 }()),
                                 2000);
        ::kill(edge.process.pid(), SIGCONT);
        edge.process.stop(2000);
    }

    // The edge answers a device that is gone: the answer fails, is counted as unsent, and the
    // edge says why (it used to count it as sent).
    void anAnswerToAGoneDeviceIsCountedAsUnsent() {
        SpawnedWorker edge;
        QVERIFY(spawnWorker(edge, Role::Edge, 1, {}, 15000, 100.0).ok());  // slow: the device leaves first
        Controller c;
        QVERIFY(c.connect(Role::Edge, edge.controlEndpoint).ok());
        QVERIFY(c.call(Role::Edge, Command::LoadModel, {}, 20000, edgent::test::modelBytes(edgent::test::defaultModel())).ok());
        FrameHeader h;
        h.dtype = DType::UInt8;
        h.dims = {1, 28, 28};
        std::string frame;
        QVERIFY(encodeFrame(h, images_.image(0), 784, frame).ok());
        {
            zmq::context_t ctx;
            zmq::socket_t s(ctx, zmq::socket_type::dealer);
            s.set(zmq::sockopt::linger, 2000);
            s.connect(c.info(Role::Edge).dataEndpoint);
            s.send(zmq::buffer(frame), zmq::send_flags::none);
            QTest::qWait(50);
        }  // the device is gone while the edge computes
        // The edge computes one frame 100x slowed: over a second at the host's full speed, 20 times
        // the 50 ms the device stayed, and twice that when a core runs at half speed
        // (docs/latency-models.md, Drift between runs); wait up to 40 s.
        QJsonObject stats;
        for (int i = 0; i < 400; ++i) {
            stats = c.call(Role::Edge, Command::Stats)->value("stats").toObject();
            if (stats.value("frames_out").toInteger() + stats.value("frames_unsent").toInteger() >= 1) break;
            QTest::qWait(100);
        }
        QCOMPARE(stats.value("frames_in").toInteger(), qint64(1));
        QCOMPARE(stats.value("frames_out").toInteger(), qint64(0));
        QCOMPARE(stats.value("frames_unsent").toInteger(), qint64(1));
        QVERIFY2(stats.value("last_data_error").toString().contains("gone"),
                 qPrintable(stats.value("last_data_error").toString()));
        (void)c.call(Role::Edge, Command::Shutdown, {}, 2000);
        edge.process.stop(2000);
    }

    // A device that cannot reach the edge's data endpoint says which endpoint it tried.
    void anUnreachableEdgeIsNamedInTheDevicesError() {
        clear();
        const QString edgeData = QString::fromStdString(controller_->info(Role::Edge).dataEndpoint);
        QVERIFY(
            controller_
                ->call(Role::Device, Command::Configure,
                       QJsonObject{{"exit", 4}, {"partition", 0}, {"bandwidth_bps", 0.0}, {"edge_endpoint", "tcp://127.0.0.1:9"}})
                .ok());
        QVERIFY(controller_->call(Role::Device, Command::StartStream, QJsonObject{{"count", 1}}).ok());
        WorkerEvent error;
        QVERIFY(waitForEvent(EventKind::StreamError, Role::Device, 15000, &error));
        QVERIFY2(error.message.find("tcp://127.0.0.1:9") != std::string::npos, error.message.c_str());
        QVERIFY(controller_->call(Role::Device, Command::Configure, QJsonObject{{"edge_endpoint", edgeData}}).ok());
    }

    void killingTheEdgeMidRunIsDetectedWithinThreeSeconds() {
        clear();
        QVERIFY(controller_
                    ->call(Role::Device, Command::Configure, QJsonObject{{"exit", 4}, {"partition", 3}, {"bandwidth_bps", 100e6}})
                    .ok());
        QVERIFY(controller_->call(Role::Device, Command::StartStream, QJsonObject{{"count", 0}, {"rate_hz", 50.0}}).ok());
        QVERIFY(waitForSamples(5, 20000));
        const double killedAt = controller_->nowMs();
        ::kill(edge_.process.pid(), SIGKILL);
        WorkerEvent down;
        QVERIFY2(waitForEvent(EventKind::WorkerDown, Role::Edge, 6000, &down), "the edge is declared dead");
        const double detectMs = down.atMs - killedAt;
        QVERIFY2(detectMs <= 3000.0, qPrintable(QStringLiteral("detected after %1 ms").arg(detectMs)));
        QVERIFY(down.message.find("edge worker died") != std::string::npos);
        QVERIFY(!controller_->info(Role::Edge).alive);
        // The device noticed too and ended its stream; the samples before the kill are kept.
        QVERIFY(waitForEvent(EventKind::StreamError, Role::Device, 8000));
        {
            std::lock_guard lock(mutex_);
            QVERIFY(samples_.size() >= 5);
        }
        auto r = controller_->call(Role::Edge, Command::Stats, {}, 1000);
        QVERIFY(!r.ok());
        QVERIFY(r.error().find("edge worker is dead") != std::string::npos);
    }

    void cleanupTestCase() {
        if (controller_ && controller_->info(Role::Device).alive)
            (void)controller_->call(Role::Device, Command::Shutdown, {}, 2000);
        controller_.reset();
        device_.process.stop(3000);
        edge_.process.stop(1000);
    }
};

QTEST_GUILESS_MAIN(TestCoInference)
#include "tst_coinference.moc"
