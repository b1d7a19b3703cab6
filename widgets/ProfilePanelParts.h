#pragma once
// What the two halves of the Profile tab share (ProfilePanel.cpp: progress, fits table and
// choices; ProfilePanelPlot.cpp: the measured-versus-predicted scatter and its export).
// Internal to widgets/.

#include "core/model/ModelSpec.h"
#include "core/plan/Regression.h"

#include <QString>

#include <cmath>

namespace edgent::widgets::profile_panel {

inline constexpr int kForestSet = 100;  // the feature-set combo's entry for the forest
inline const char* const kNodeNames[2] = {"device", "edge"};

inline QString kindName(core::LayerKind kind) {
    const std::string_view name = core::layerKindName(kind);
    return QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size()));
}

inline QString setName(core::plan::FeatureSet f) { return QString::fromLatin1(core::plan::featureSetName(f)); }

inline QString mapeText(const core::plan::LinearFit& fit) {
    return std::isnan(fit.mapeHeldOut) || fit.heldOut == 0 ? QStringLiteral("n/a")
                                                           : QString::number(fit.mapeHeldOut * 100.0, 'f', 1);
}

inline int nodeIndex(const QString& node) { return node == QLatin1String("edge") ? 1 : 0; }

}  // namespace edgent::widgets::profile_panel
