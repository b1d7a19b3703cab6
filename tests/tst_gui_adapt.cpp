// Run > Adapt on the device (app/gui/AdaptDialog.h) runs the same engine as `edgent adapt`:
// two modes from the model as loaded on a spawned device worker, the accuracy curves and
// RCT's bit-width curves drawn, the figures in the table and the store, the plot exported,
// the choices kept; and one clear line for a bad shift.
#include "RunTestUtil.h"
#include "TestUtil.h"

#include "app/gui/AdaptDialog.h"

#include <QCheckBox>
#include <QFileInfo>
#include <QLineEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace edgent::gui;

class TestGuiAdapt : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private Q_SLOTS:
    void initTestCase() {
        QCoreApplication::setOrganizationName(QStringLiteral("edgent-test-gui-adapt"));
        QSettings().clear();
    }

    void adaptsInTwoModesAndDrawsTheirCurves() {
        auto model = edgent::core::readModelBytes(edgent::test::defaultModel());
        QVERIFY2(model.ok(), model.ok() ? "" : model.error().c_str());
        const QString db = dir_.filePath(QStringLiteral("runs.sqlite"));
        AdaptDialog dialog(std::make_shared<const edgent::core::ModelBytes>(*model), db);
        dialog.show();
        dialog.findChild<QCheckBox*>(QStringLiteral("adaptFp32"))->setChecked(true);
        dialog.findChild<QCheckBox*>(QStringLiteral("adaptQat"))->setChecked(false);
        dialog.findChild<QCheckBox*>(QStringLiteral("adaptRct"))->setChecked(true);
        dialog.findChild<QSpinBox*>(QStringLiteral("adaptSteps"))->setValue(4);
        auto* shift = dialog.findChild<QLineEdit*>(QStringLiteral("adaptShift"));
        QSignalSpy finished(&dialog, &AdaptDialog::finished);
        shift->setText(QStringLiteral("blur=2"));
        dialog.start();
        QCOMPARE(finished.size(), 1);
        QVERIFY(!finished.first().at(0).toBool() && finished.first().at(1).toString().contains(QStringLiteral("unknown shift 'blur'")));
        QVERIFY(!dialog.running());
        shift->setText(QStringLiteral("default"));
        dialog.start();
        QVERIFY(dialog.running());
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() == 2, 240000);
        QVERIFY2(finished.at(1).at(0).toBool(), qPrintable(finished.at(1).at(1).toString()));
        auto* table = dialog.findChild<QTableWidget*>(QStringLiteral("adaptTable"));
        QCOMPARE(table->rowCount(), 2);
        QCOMPARE(table->item(0, 0)->text() + "/" + table->item(1, 0)->text(), QStringLiteral("fp32/rct"));
        QVERIFY(table->item(1, 4)->text().toLongLong() < table->item(0, 4)->text().toLongLong());  // rct holds fewer bytes
        QCOMPARE(dialog.accuracyPoints(QStringLiteral("fp32")), 4);  // every step of 4 (a point per step below 20)
        QCOMPARE(dialog.bitCurves(), 4);                              // rct's four quantised layers
        QCOMPARE(edgent::test::scalar(db.toStdString(), "SELECT count(*) FROM adaptations WHERE status='finished'"), 2.0);
        const QString png = dir_.filePath(QStringLiteral("adapt.png"));
        QVERIFY(dialog.savePlot(png));
        QVERIFY(QFileInfo(png).size() > 1000);
        QCOMPARE(QSettings().value(QStringLiteral("adapt/steps")).toInt(), 4);
        // Export steps…: one CSV per mode, a header and a row per step.
        QVERIFY(dialog.exportSteps(dir_.filePath(QStringLiteral("steps.csv"))));
        QCOMPARE(edgent::test::readLines(dir_.filePath(QStringLiteral("steps-rct.csv"))).size(), 5);
        QVERIFY(edgent::test::readLines(dir_.filePath(QStringLiteral("steps-fp32.csv"))).at(0).endsWith("eval_accuracy"));
        QCOMPARE(QSettings().value(QStringLiteral("adapt/qat")).toBool(), false);
    }
};

QTEST_MAIN(TestGuiAdapt)
#include "tst_gui_adapt.moc"
