#include "widgets/ModelPanel.h"
#include "widgets/Tables.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHelpEvent>
#include <QLabel>
#include <QLocale>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <functional>

namespace edgent::widgets {

namespace {

// The cut line's colour: saturated enough to read on light and dark palettes alike.
const QColor kCutColor(230, 85, 13);

// Secondary text: halfway between the text and its background, so it reads on any palette.
QColor dimmed(const QPalette& pal) {
    const QColor a = pal.color(QPalette::WindowText), b = pal.color(QPalette::Window);
    return QColor((a.red() * 3 + b.red() * 2) / 5, (a.green() * 3 + b.green() * 2) / 5, (a.blue() * 3 + b.blue() * 2) / 5);
}

// One-letter box labels for narrow columns, explained by a key under the drawing.
QString kindLetter(core::LayerKind kind) {
    switch (kind) {
    case core::LayerKind::Conv: return QStringLiteral("C");
    case core::LayerKind::Relu: return QStringLiteral("R");
    case core::LayerKind::MaxPool: return QStringLiteral("P");
    case core::LayerKind::Lrn: return QStringLiteral("N");
    case core::LayerKind::Dropout: return QStringLiteral("D");
    case core::LayerKind::Flatten: return QStringLiteral("V");
    case core::LayerKind::Linear: return QStringLiteral("F");
    case core::LayerKind::BatchNorm: return QStringLiteral("B");
    }
    return QStringLiteral("?");
}

QString shortKindName(core::LayerKind kind) {
    switch (kind) {
    case core::LayerKind::Conv: return QStringLiteral("conv");
    case core::LayerKind::Relu: return QStringLiteral("relu");
    case core::LayerKind::MaxPool: return QStringLiteral("pool");
    case core::LayerKind::Lrn: return QStringLiteral("lrn");
    case core::LayerKind::Dropout: return QStringLiteral("drop");
    case core::LayerKind::Flatten: return QStringLiteral("flat");
    case core::LayerKind::Linear: return QStringLiteral("fc");
    case core::LayerKind::BatchNorm: return QStringLiteral("bn");
    }
    return QStringLiteral("?");
}

QString kindName(core::LayerKind kind) {
    const std::string_view name = core::layerKindName(kind);
    return QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size()));
}

QString exitLabel(const core::ModelSpec& spec, int e) {
    const auto& ex = spec.exits[static_cast<size_t>(e)];
    return ex.name.empty() ? QStringLiteral("exit %1").arg(e) : QString::fromStdString(ex.name);
}

QString featuresText(const core::LayerInfo& info) {
    const std::vector<std::string> names = core::tableOneFeatureNames(info.kind);
    QStringList parts;
    for (size_t i = 0; i < info.features.size(); ++i) {
        const QString name = i < names.size() ? QString::fromStdString(names[i]) : QStringLiteral("x%1").arg(i);
        parts << name + QLatin1Char('=') + QString::number(info.features[i], 'g', 12);
    }
    return parts.join(QStringLiteral(", "));
}

QTableWidgetItem* item(const QString& text, bool number = false) {
    auto* it = new QTableWidgetItem(text);
    it->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
    if (number) it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return it;
}

QTableWidget* makeTable(const QStringList& headers, QWidget* parent) {
    auto* t = new QTableWidget(0, static_cast<int>(headers.size()), parent);
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->setAlternatingRowColors(true);
    return t;
}

}  // namespace

// The exit paths drawn as layers: the trunk along the top row, each exit's branch in a lane
// of its own below, leaving the trunk at its attach point. Column c holds path index c on
// every exit, so one vertical line marks partition p on any path.
class ExitPathView : public QWidget {
public:
    explicit ExitPathView(QWidget* parent) : QWidget(parent) { setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Minimum); }

    std::function<void(int)> onExitClicked;

    void setModel(const core::ModelSpec* spec, const std::vector<std::vector<core::LayerInfo>>* paths) {
        hasModel_ = spec != nullptr;
        spec_ = spec ? *spec : core::ModelSpec{};
        paths_ = paths ? *paths : std::vector<std::vector<core::LayerInfo>>{};
        updateGeometry();
        update();
    }
    void setSelected(int exit) {
        selected_ = exit;
        update();
    }
    void setCut(int exit, int partition) {
        cutExit_ = exit;
        cutPartition_ = partition;
        update();
    }

    // Rows: the trunk, one lane per exit, and a line for the key to the box labels.
    QSize minimumSizeHint() const override { return {320, top() + rowHeight() * 2 + keyHeight()}; }
    QSize sizeHint() const override { return {720, top() + rowHeight() * (1 + std::max(1, spec_.numExits())) + keyHeight()}; }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        p.setRenderHint(QPainter::Antialiasing);
        const QPalette& pal = palette();
        if (!hasModel_) {
            p.setPen(dimmed(pal));
            p.drawText(rect(), Qt::AlignCenter, tr("No model loaded"));
            return;
        }
        const int n = spec_.numExits();
        const double cw = columnWidth();
        const double pad = std::min(3.0, cw * 0.15);
        const int rh = rowHeight();
        auto boxRect = [&](int row, int column) {
            return QRectF(left() + column * cw + pad, top() + row * rh + 3, cw - 2 * pad, rh - 6);
        };
        const QFontMetrics fm(font());
        // One labelling for all boxes: short kind names when the widest fits, else initials.
        int widest = 0;
        for (const auto kind : core::allLayerKinds()) widest = std::max(widest, fm.horizontalAdvance(shortKindName(kind)));
        const double inner = cw - 2 * pad - 2;
        const bool words = widest <= inner;
        const bool letters = fm.horizontalAdvance(QStringLiteral("M")) <= inner;
        auto drawBox = [&](const QRectF& r, core::LayerKind kind, bool highlighted) {
            p.setPen(QPen(highlighted ? pal.color(QPalette::Highlight).darker(120) : pal.color(QPalette::Mid), 1));
            p.setBrush(highlighted ? pal.color(QPalette::Highlight) : pal.color(QPalette::Button));
            p.drawRoundedRect(r, 3, 3);
            if (!words && !letters) return;
            const QString label = words ? shortKindName(kind) : kindLetter(kind);
            p.setPen(highlighted ? pal.color(QPalette::HighlightedText) : pal.color(QPalette::ButtonText));
            p.drawText(r, Qt::AlignCenter, label);
        };

        // Connectors first, so boxes sit on top of them.
        for (int e = 0; e < n; ++e) {
            const auto& ex = spec_.exits[static_cast<size_t>(e)];
            const bool sel = e == selected_;
            p.setPen(QPen(sel ? pal.color(QPalette::Highlight) : pal.color(QPalette::Mid), sel ? 2.5 : 1.2));
            const double ax = left() + ex.attach * cw;
            const double y0 = top() + rh - 3;
            const double y1 = top() + (e + 1) * rh + rh / 2.0;
            const double x1 = left() + (ex.attach + static_cast<double>(ex.branch.size())) * cw;
            QPainterPath path(QPointF(ax, y0));
            path.lineTo(ax, y1);
            path.lineTo(x1 + 6, y1);
            p.setBrush(Qt::NoBrush);
            p.drawPath(path);
        }
        // Trunk: highlighted up to the selected exit's attach point.
        const int selAttach = selected_ >= 0 && selected_ < n ? spec_.exits[static_cast<size_t>(selected_)].attach : 0;
        for (int i = 0; i < static_cast<int>(spec_.trunk.size()); ++i)
            drawBox(boxRect(0, i), spec_.trunk[static_cast<size_t>(i)].kind, i < selAttach);
        QFont bold = font();
        bold.setBold(true);
        for (int e = 0; e < n; ++e) {
            const auto& ex = spec_.exits[static_cast<size_t>(e)];
            for (int j = 0; j < static_cast<int>(ex.branch.size()); ++j)
                drawBox(boxRect(e + 1, ex.attach + j), ex.branch[static_cast<size_t>(j)].kind, e == selected_);
            QString label = exitLabel(spec_, e);
            if (static_cast<size_t>(e) < spec_.exitAccuracy.size())
                label += QStringLiteral("  %1 %").arg(spec_.exitAccuracy[static_cast<size_t>(e)] * 100.0, 0, 'f', 1);
            p.setFont(e == cutExit_ ? bold : font());
            p.setPen(e == selected_ ? pal.color(QPalette::WindowText) : dimmed(pal));
            const double x = left() + (ex.attach + static_cast<double>(ex.branch.size())) * cw + 10;
            p.drawText(QRectF(x, top() + (e + 1) * rh, width() - x, rh), Qt::AlignVCenter | Qt::AlignLeft, label);
        }
        p.setFont(font());
        p.setPen(dimmed(pal));
        p.drawText(QRectF(0, top(), left() - 4, rh), Qt::AlignVCenter | Qt::AlignRight, tr("trunk"));
        if (!words && letters) {
            QStringList key;
            for (const auto kind : core::allLayerKinds()) key << kindLetter(kind) + QLatin1Char(' ') + kindName(kind);
            p.drawText(QRectF(left(), top() + (n + 1) * rh + 2, width() - left(), fm.height() + 2),
                       Qt::AlignLeft | Qt::AlignVCenter, key.join(QStringLiteral("  ·  ")));
        }

        // The current plan's cut.
        if (cutExit_ >= 0 && cutExit_ < n && cutPartition_ >= 0 && cutPartition_ <= spec_.pathLength(cutExit_)) {
            const double x = left() + cutPartition_ * cw;
            const double yEnd = top() + (cutExit_ + 2) * rh;
            p.setPen(QPen(kCutColor, 2, Qt::DashLine));
            p.drawLine(QPointF(x, 2 + fm.height()), QPointF(x, yEnd));
            p.setPen(kCutColor);
            const int len = spec_.pathLength(cutExit_);
            const QString dev = cutPartition_ == len ? tr("device (whole path)") : tr("device");
            const QString edge = cutPartition_ == 0 ? tr("edge (whole path)") : tr("edge");
            if (cutPartition_ > 0)
                p.drawText(QRectF(0, 0, x - 5, fm.height() + 2), Qt::AlignRight | Qt::AlignVCenter, dev + QStringLiteral(" ◂"));
            if (cutPartition_ < len)
                p.drawText(QRectF(x + 5, 0, width() - x - 5, fm.height() + 2), Qt::AlignLeft | Qt::AlignVCenter,
                           QStringLiteral("▸ ") + edge);
        }
    }

    bool event(QEvent* e) override {
        if (e->type() == QEvent::ToolTip) {
            auto* help = static_cast<QHelpEvent*>(e);
            const QString tip = tipAt(help->pos());
            if (tip.isEmpty())
                QToolTip::hideText();
            else
                QToolTip::showText(help->globalPos(), tip, this);
            return true;
        }
        return QWidget::event(e);
    }

    void mousePressEvent(QMouseEvent* e) override {
        const int row = rowAt(e->position().y());
        if (hasModel_ && row >= 1 && row <= spec_.numExits() && onExitClicked) onExitClicked(row - 1);
        QWidget::mousePressEvent(e);
    }

private:
    int rowHeight() const { return fontMetrics().height() + 12; }
    int keyHeight() const { return fontMetrics().height() + 8; }
    int top() const { return fontMetrics().height() + 6; }
    int left() const { return fontMetrics().horizontalAdvance(tr("trunk")) + 12; }
    int columns() const {
        int c = static_cast<int>(spec_.trunk.size());
        for (const auto& ex : spec_.exits) c = std::max(c, ex.attach + static_cast<int>(ex.branch.size()));
        return std::max(1, c);
    }
    double columnWidth() const {
        int label = 0;
        for (int e = 0; e < spec_.numExits(); ++e)
            label = std::max(label, fontMetrics().horizontalAdvance(exitLabel(spec_, e) + QStringLiteral("  100.0 %")));
        return std::max(4.0, static_cast<double>(width() - left() - label - 20) / columns());
    }
    int rowAt(double y) const { return y < top() ? -1 : static_cast<int>((y - top()) / rowHeight()); }

    QString tipAt(const QPoint& pos) const {
        if (!hasModel_) return {};
        const int row = rowAt(pos.y());
        const int column = static_cast<int>((pos.x() - left()) / columnWidth());
        if (row < 0 || row > spec_.numExits() || pos.x() < left()) return {};
        // Any exit whose analysed path covers this cell describes the layer.
        for (int e = 0; e < spec_.numExits(); ++e) {
            const auto& ex = spec_.exits[static_cast<size_t>(e)];
            const bool covers =
                row == 0 ? column < ex.attach
                         : e == row - 1 && column >= ex.attach && column < ex.attach + static_cast<int>(ex.branch.size());
            if (!covers || static_cast<size_t>(e) >= paths_.size()) continue;
            const auto& path = paths_[static_cast<size_t>(e)];
            if (static_cast<size_t>(column) >= path.size()) continue;
            const core::LayerInfo& info = path[static_cast<size_t>(column)];
            return tr("%1 (%2), path index %3\noutput %4, %5 bytes")
                .arg(QString::fromStdString(info.name), kindName(info.kind))
                .arg(column)
                .arg(QString::fromStdString(info.output.toString()),
                     QLocale().toString(static_cast<qlonglong>(info.outputBytes)));
        }
        if (row >= 1) return exitLabel(spec_, row - 1);
        return {};
    }

    bool hasModel_ = false;
    core::ModelSpec spec_;
    std::vector<std::vector<core::LayerInfo>> paths_;
    int selected_ = -1;
    int cutExit_ = -1;
    int cutPartition_ = 0;
};

ModelPanel::ModelPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);

    auto* buttons = new QHBoxLayout;
    openButton_ = new QPushButton(tr("Open model…"), this);
    openButton_->setObjectName("openModelButton");
    openButton_->setToolTip(tr("Load a native model (.json with its weights) or a TorchScript export (.pt)."));
    defaultButton_ = new QPushButton(tr("Default model"), this);
    defaultButton_->setObjectName("defaultModelButton");
    defaultButton_->setToolTip(tr("Load the shipped five-exit AlexNet."));
    buttons->addWidget(openButton_);
    buttons->addWidget(defaultButton_);
    buttons->addStretch();
    layout->addLayout(buttons);

    summary_ = new QLabel(this);
    summary_->setObjectName("modelSummary");
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(summary_);

    pathView_ = new ExitPathView(this);
    pathView_->setObjectName("pathView");
    pathView_->onExitClicked = [this](int exit) { setSelectedExit(exit); };
    layout->addWidget(pathView_);

    plan_ = new QLabel(this);
    plan_->setObjectName("modelPlanLabel");
    plan_->setWordWrap(true);
    layout->addWidget(plan_);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    exits_ = makeTable({tr("Exit"), tr("Accuracy %"), tr("Depth"), tr("MFLOPs"), tr("Parameters"), tr("Appeal head")}, splitter);
    exits_->setObjectName("exitsTable");
    auto* layersBox = new QWidget(splitter);
    auto* layersLayout = new QVBoxLayout(layersBox);
    layersLayout->setContentsMargins(0, 0, 0, 0);
    layersTitle_ = new QLabel(layersBox);
    layersTitle_->setObjectName("layersTitle");
    layersTitle_->setWordWrap(true);
    layers_ = makeTable(
        {tr("#"), tr("Name"), tr("Kind"), tr("Output shape"), tr("Output bytes"), tr("Runs on"), tr("Table-1 features")},
        layersBox);
    layers_->setObjectName("layersTable");
    layersLayout->addWidget(layersTitle_);
    layersLayout->addWidget(layers_);
    splitter->addWidget(exits_);
    splitter->addWidget(layersBox);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 2);
    layout->addWidget(splitter, 1);

    connect(openButton_, &QPushButton::clicked, this, &ModelPanel::openModelDialog);
    connect(defaultButton_, &QPushButton::clicked, this, &ModelPanel::loadDefaultRequested);
    connect(exits_, &QTableWidget::currentCellChanged, this, [this](int row, int, int, int) {
        if (row >= 0 && row != selected_) setSelectedExit(row);
    });

    updateSummary();
    updatePlanLabel();
    fillExits();
    fillLayers();
}

void ModelPanel::openModelDialog() {
    QString dir;
    if (!source_.isEmpty()) dir = QFileInfo(source_).absolutePath();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open model"), dir, tr("Models (*.json *.pt)"));
    if (!path.isEmpty()) Q_EMIT loadRequested(path);
}

void ModelPanel::setModel(const core::ModelFile* model, const QString& path) {
    hasModel_ = model != nullptr;
    model_ = model ? *model : core::ModelFile{};
    source_ = model ? path : QString();
    paths_.clear();
    pathErrors_.clear();
    if (hasModel_) {
        for (int e = 0; e < model_.spec.numExits(); ++e) {
            auto analysed = core::analyzePath(model_.spec, e);
            pathErrors_.push_back(analysed ? std::string() : analysed.error());
            paths_.push_back(analysed ? std::move(analysed).value() : std::vector<core::LayerInfo>{});
        }
    }
    selected_ = hasModel_ && model_.spec.numExits() > 0 ? model_.spec.numExits() - 1 : -1;
    pathView_->setModel(hasModel_ ? &model_.spec : nullptr, &paths_);
    pathView_->setSelected(selected_);
    updateSummary();
    fillExits();
    fillLayers();
    updatePlanLabel();
}

void ModelPanel::setCut(int exit, int partition) {
    cutExit_ = exit < 0 ? -1 : exit;
    cutPartition_ = partition;
    pathView_->setCut(cutExit_, cutPartition_);
    updatePlanLabel();
    fillLayers();
}

int ModelPanel::selectedExit() const { return hasModel_ ? selected_ : -1; }

void ModelPanel::setSelectedExit(int exit) {
    if (!hasModel_ || exit < 0 || exit >= model_.spec.numExits()) return;
    selected_ = exit;
    if (exits_->currentRow() != exit) {
        const QSignalBlocker block(exits_);
        exits_->setCurrentCell(exit, 0);
        exits_->selectRow(exit);
    }
    pathView_->setSelected(exit);
    fillLayers();
}

void ModelPanel::updateSummary() {
    if (!hasModel_) {
        summary_->setText(tr("No model loaded. Open a model file or load the default model."));
        return;
    }
    const core::ModelSpec& s = model_.spec;
    QStringList lines;
    lines << tr("<b>%1</b> — %2 exits, input %3 (%4 bytes raw), %5 classes")
                 .arg(QString::fromStdString(s.name).toHtmlEscaped())
                 .arg(s.numExits())
                 .arg(QString::fromStdString(s.input.toString()))
                 .arg(QLocale().toString(static_cast<qlonglong>(s.inputBytes())))
                 .arg(s.numClasses);
    lines << tr("Source: %1").arg(source_.toHtmlEscaped());
    if (model_.weightsBytes > 0)
        lines << tr("Weights: %1").arg(QLocale().formattedDataSize(model_.weightsBytes, 1, QLocale::DataSizeSIFormat));
    if (!s.accuracyDataset.empty())
        lines << tr("Accuracy measured on %1").arg(QString::fromStdString(s.accuracyDataset).toHtmlEscaped());
    summary_->setText(lines.join(QStringLiteral("<br>")));
}

void ModelPanel::updatePlanLabel() {
    if (cutExit_ < 0) {
        plan_->setText(tr("No plan yet: the cut appears once the planner has chosen an exit and a partition."));
        return;
    }
    if (!hasModel_ || cutExit_ >= model_.spec.numExits() || cutPartition_ < 0 ||
        cutPartition_ > model_.spec.pathLength(cutExit_)) {
        plan_->setText(
            tr("Current plan: exit %1, partition %2 (not part of the loaded model).").arg(cutExit_).arg(cutPartition_));
        return;
    }
    const int n = model_.spec.pathLength(cutExit_);
    const QString name = exitLabel(model_.spec, cutExit_);
    QString where;
    if (cutPartition_ == 0)
        where = tr("the device sends the raw input and the edge runs all %1 layers").arg(n);
    else if (cutPartition_ == n)
        where = tr("the device runs all %1 layers").arg(n);
    else
        where =
            tr("the device runs layers 0–%1, the edge runs layers %2–%3").arg(cutPartition_ - 1).arg(cutPartition_).arg(n - 1);
    QString bytes;
    const auto& path = paths_[static_cast<size_t>(cutExit_)];
    if (!path.empty() && cutPartition_ < n)
        bytes = tr(", %1 bytes transferred")
                    .arg(QLocale().toString(static_cast<qlonglong>(core::transferBytes(model_.spec, path, cutPartition_))));
    plan_->setText(tr("Current plan: %1 cut at partition %2: %3%4.").arg(name).arg(cutPartition_).arg(where, bytes));
}

void ModelPanel::fillExits() {
    const QSignalBlocker block(exits_);
    exits_->setRowCount(0);
    if (!hasModel_) return;
    const core::ModelSpec& s = model_.spec;
    exits_->setRowCount(s.numExits());
    for (int e = 0; e < s.numExits(); ++e) {
        const auto& path = paths_[static_cast<size_t>(e)];
        int64_t flops = 0, paramBytes = 0;
        for (const auto& info : path) {
            flops += info.flops;
            paramBytes += info.paramBytes;
        }
        const bool analysed = pathErrors_[static_cast<size_t>(e)].empty();
        const QString accuracy = static_cast<size_t>(e) < s.exitAccuracy.size()
                                     ? QString::number(s.exitAccuracy[static_cast<size_t>(e)] * 100.0, 'f', 2)
                                     : QStringLiteral("—");
        exits_->setItem(e, 0, item(QStringLiteral("%1: %2").arg(e).arg(exitLabel(s, e))));
        exits_->setItem(e, 1, item(accuracy, true));
        exits_->setItem(e, 2, item(QString::number(s.pathLength(e)), true));
        exits_->setItem(e, 3,
                        item(analysed ? QString::number(static_cast<double>(flops) / 1e6, 'f', 2) : QStringLiteral("—"), true));
        auto* params =
            item(analysed ? QLocale().formattedDataSize(paramBytes, 1, QLocale::DataSizeSIFormat) : QStringLiteral("—"), true);
        if (analysed) params->setToolTip(tr("%1 bytes").arg(QLocale().toString(static_cast<qlonglong>(paramBytes))));
        exits_->setItem(e, 4, params);
        // AppealNet's head: the layers that score how likely the input needs the final exit.
        QString appeal;
        for (const auto& l : s.exits[static_cast<size_t>(e)].appeal)
            appeal += (appeal.isEmpty() ? QString() : QStringLiteral(" → ")) + QString::fromUtf8(layerKindName(l.kind).data());
        if (!appeal.isEmpty() && s.exits[static_cast<size_t>(e)].appealOnLogits) appeal += tr(" (on the class scores)");
        exits_->setItem(e, 5, item(appeal.isEmpty() ? QStringLiteral("—") : appeal));
        if (!analysed)
            for (int c = 0; c < exits_->columnCount(); ++c)
                exits_->item(e, c)->setToolTip(QString::fromStdString(pathErrors_[static_cast<size_t>(e)]));
    }
    fitColumns(exits_, 0);  // the exit's name takes the slack
    if (selected_ >= 0) {
        exits_->setCurrentCell(selected_, 0);
        exits_->selectRow(selected_);
    }
}

void ModelPanel::fillLayers() {
    layers_->setRowCount(0);
    if (!hasModel_ || selected_ < 0) {
        layersTitle_->setText(tr("Layers"));
        return;
    }
    const QString name = exitLabel(model_.spec, selected_);
    const std::string& error = pathErrors_[static_cast<size_t>(selected_)];
    if (!error.empty()) {
        layersTitle_->setText(tr("Layers of %1: the path cannot be analysed: %2").arg(name, QString::fromStdString(error)));
        return;
    }
    const auto& path = paths_[static_cast<size_t>(selected_)];
    const bool planned = selected_ == cutExit_ && cutPartition_ >= 0 && cutPartition_ <= static_cast<int>(path.size());
    layersTitle_->setText(planned ? tr("Layers of %1 (the current plan's exit)").arg(name) : tr("Layers of %1").arg(name));
    layers_->setRowCount(static_cast<int>(path.size()));
    for (int i = 0; i < static_cast<int>(path.size()); ++i) {
        const core::LayerInfo& info = path[static_cast<size_t>(i)];
        layers_->setItem(i, 0, item(QString::number(i), true));
        auto* nameItem = item(QString::fromStdString(info.name));
        nameItem->setToolTip(info.inTrunk ? tr("trunk layer %1").arg(info.index) : tr("branch layer %1").arg(info.index));
        layers_->setItem(i, 1, nameItem);
        layers_->setItem(i, 2, item(kindName(info.kind)));
        layers_->setItem(i, 3, item(QString::fromStdString(info.output.toString())));
        layers_->setItem(i, 4, item(QLocale().toString(static_cast<qlonglong>(info.outputBytes)), true));
        layers_->setItem(i, 5, item(planned ? (i < cutPartition_ ? tr("device") : tr("edge")) : QString()));
        layers_->setItem(i, 6, item(featuresText(info)));
    }
    fitColumns(layers_, 6);  // the Table-1 features take the slack
}

}  // namespace edgent::widgets
