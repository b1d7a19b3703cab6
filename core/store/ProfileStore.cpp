// RunStore: profiles and regressions.
#include "core/store/RunStore.h"

#include "core/store/Sql.h"

#include <QString>

namespace edgent::core::store {

Result<int64_t> RunStore::saveProfile(int64_t modelId, const std::string& node, const std::string& host, int threads,
                                      const profile::ProfileOptions& options, const profile::ProfileResult& result,
                                      double overheadMs, double overheadP95Ms, double tailRatio, double sliceMs) {
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return makeError(s.error());
    auto rollback = [&](const std::string& why) -> Result<int64_t> {
        (void)exec("ROLLBACK");
        return makeError("database " + path_ + ": " + why);
    };
    Stmt p(db_,
           "INSERT INTO profiles(model_id, node, host, created_at, threads, warmup, repeats, message_overhead_ms, seconds, "
           "slowdown, message_overhead_p95_ms, run_tail_ratio, spread, span_s, slowdown_wait, slice_ms) "
           "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)");
    p.bind(1, modelId).bind(2, node).bind(3, host).bind(4, nowIso()).bind(5, threads).bind(6, options.warmup);
    p.bind(7, options.repeats)
        .bind(8, overheadMs)
        .bind(9, result.seconds)
        .bind(10, options.slowdown)
        .bind(11, overheadP95Ms)
        .bind(12, tailRatio)
        .bind(13, options.spread)
        .bind(14, options.spanSeconds);
    p.bindTextOrNull(15, options.slowdownWait);
    p.bind(16, sliceMs);
    if (p.step() != SQLITE_DONE) return rollback(p.error());
    const int64_t id = sqlite3_last_insert_rowid(db_);
    Stmt l(db_,
           "INSERT INTO profile_layers(profile_id, source, exit, layer_index, kind, features_json, median_ms, p10_ms, "
           "p90_ms, repeats, config_json) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
    auto jsonArray = [](const std::vector<double>& v) {
        std::string out = "[";
        for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
        return out + "]";
    };
    for (const auto& t : result.layers) {
        const std::string features = jsonArray(t.features);
        l.reset();
        l.bind(1, id).bind(2, t.source).bind(3, t.exit).bind(4, t.layerIndex).bind(5, std::string(layerKindName(t.kind)));
        l.bind(6, features).bind(7, t.medianMs).bind(8, t.p10Ms).bind(9, t.p90Ms).bind(10, t.repeats);
        l.bind(11, jsonArray(t.config));
        if (l.step() != SQLITE_DONE) return rollback(l.error());
    }
    Stmt m(db_, "INSERT INTO model_loads(profile_id, model_bytes, median_ms) VALUES(?1,?2,?3)");
    for (const auto& load : result.loads) {
        m.reset();
        m.bind(1, id).bind(2, load.modelBytes).bind(3, load.medianMs);
        if (m.step() != SQLITE_DONE) return rollback(m.error());
    }
    Stmt k(db_, "INSERT INTO profile_codecs(profile_id, codec, elements, encode_ms, decode_ms) VALUES(?1,?2,?3,?4,?5)");
    for (const auto& c : result.codecs) {
        k.reset();
        k.bind(1, id).bind(2, c.codec).bind(3, c.elements).bind(4, c.encodeMs).bind(5, c.decodeMs);
        if (k.step() != SQLITE_DONE) return rollback(k.error());
    }
    if (auto c = commit(); !c) return makeError(c.error());
    return id;
}

Status RunStore::saveRegression(int64_t profileId, const std::string& node, const plan::LinearFit& fit) {
    std::string coefficients = "[";
    for (size_t i = 0; i < fit.coefficients.size(); ++i)
        coefficients += (i ? "," : "") + QString::number(fit.coefficients[i], 'g', 17).toStdString();
    coefficients += "]";
    Stmt s(db_,
           "INSERT INTO regressions(profile_id, node, kind, coefficients_json, r2, mape_heldout, n_fit, n_heldout, "
           "feature_set) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    s.bind(1, profileId).bind(2, node).bind(3, std::string(layerKindName(fit.kind))).bind(4, coefficients).bind(5, fit.r2);
    s.bind(6, fit.mapeHeldOut)
        .bind(7, fit.fitted)
        .bind(8, fit.heldOut)
        .bind(9, std::string(plan::featureSetName(fit.featureSet)));
    if (s.step() != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    return Status::success();
}

Result<StoredProfile> RunStore::latestProfile(const std::string& modelHash, const std::string& node) {
    Stmt s(db_,
           "SELECT p.id, coalesce(p.host,''), coalesce(p.threads,0), coalesce(p.message_overhead_ms,0), p.slowdown, "
           "coalesce(p.message_overhead_p95_ms, p.message_overhead_ms, 0), coalesce(p.run_tail_ratio, 1), coalesce(p.seconds, 0), "
           "coalesce(p.spread, 1), coalesce(p.span_s, 0), coalesce(p.slowdown_wait, ''), coalesce(p.slice_ms, 0) "
           "FROM profiles p "
           "JOIN models m ON m.id=p.model_id WHERE (?1='' OR m.hash=?1) AND p.node=?2 ORDER BY p.id DESC LIMIT 1");
    if (!s.ok()) return makeError("database " + path_ + ": " + s.error());
    s.bind(1, modelHash).bind(2, node);
    if (s.step() != SQLITE_ROW)
        return makeError("database " + path_ + " has no " + node + (modelHash.empty() ? " profile" : " profile of this model") +
                         "; run edgent profile first");
    StoredProfile p;
    p.id = s.i64(0);
    p.node = node;
    p.host = s.text(1);
    p.threads = static_cast<int>(s.i64(2));
    p.overheadMs = s.f64(3);
    p.slowdown = s.f64(4);
    p.overheadP95Ms = s.f64(5);
    p.tailRatio = s.f64(6);
    p.result.seconds = s.f64(7);
    p.spread = static_cast<int>(s.i64(8));
    p.spanSeconds = s.f64(9);
    p.slowdownWait = s.text(10);
    p.sliceMs = s.f64(11);
    Stmt l(db_,
           "SELECT source, exit, layer_index, kind, features_json, median_ms, p10_ms, p90_ms, repeats, "
           "coalesce(config_json, '[]') FROM profile_layers "
           "WHERE profile_id=?1");
    l.bind(1, p.id);
    while (l.step() == SQLITE_ROW) {
        auto kind = layerKindFromName(l.text(3));
        if (!kind) return makeError("database " + path_ + ": " + kind.error());
        profile::LayerTiming t;
        t.source = l.text(0);
        t.exit = static_cast<int>(l.i64(1));
        t.layerIndex = static_cast<int>(l.i64(2));
        t.kind = *kind;
        const QString features = QString::fromStdString(l.text(4));
        for (const QString& f : features.mid(1, features.size() - 2).split(',', Qt::SkipEmptyParts))
            t.features.push_back(f.toDouble());
        t.medianMs = l.f64(5);
        t.p10Ms = l.f64(6);
        t.p90Ms = l.f64(7);
        t.repeats = static_cast<int>(l.i64(8));
        const QString config = QString::fromStdString(l.text(9));
        for (const QString& f : config.mid(1, config.size() - 2).split(',', Qt::SkipEmptyParts)) t.config.push_back(f.toDouble());
        if (!t.config.empty()) upgradeConfig(t.config);
        p.result.layers.push_back(std::move(t));
    }
    Stmt k(db_, "SELECT codec, elements, encode_ms, decode_ms FROM profile_codecs WHERE profile_id=?1 ORDER BY codec, elements");
    k.bind(1, p.id);
    while (k.step() == SQLITE_ROW) p.result.codecs.push_back(profile::CodecTiming{k.text(0), k.i64(1), k.f64(2), k.f64(3)});
    Stmt r(db_,
           "SELECT kind, coefficients_json, r2, mape_heldout, n_fit, n_heldout, feature_set FROM regressions "
           "WHERE profile_id=?1");
    r.bind(1, p.id);
    while (r.step() == SQLITE_ROW) {
        auto kind = layerKindFromName(r.text(0));
        if (!kind) return makeError("database " + path_ + ": " + kind.error());
        plan::LinearFit fit;
        fit.kind = *kind;
        const QString c = QString::fromStdString(r.text(1));
        for (const QString& x : c.mid(1, c.size() - 2).split(',', Qt::SkipEmptyParts)) fit.coefficients.push_back(x.toDouble());
        fit.r2 = r.f64(2);
        fit.mapeHeldOut = r.f64(3);
        fit.fitted = static_cast<int>(r.i64(4));
        fit.heldOut = static_cast<int>(r.i64(5));
        fit.featureSet = r.text(6) == "table1+macs" ? plan::FeatureSet::TableOneMacs : plan::FeatureSet::TableOne;
        (fit.featureSet == plan::FeatureSet::TableOne ? p.regressions : p.regressionsMacs)[*kind] = fit;
    }
    return p;
}

}  // namespace edgent::core::store
