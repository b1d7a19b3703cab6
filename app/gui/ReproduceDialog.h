#pragma once
// Run > Reproduce paper figures: the window's face of `edgent reproduce` (one engine,
// core/repro/Reproduce.h). It runs on a thread of its own with its own local workers, shows
// each step, can be cancelled, draws the figures on the window's thread, and opens the
// figure's page when done. Its choices persist.

#include "core/model/ModelFile.h"

#include <QDialog>

#include <atomic>
#include <memory>
#include <thread>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace edgent::gui {

class ReproduceDialog : public QDialog {
    Q_OBJECT
public:
    // model: the window's model at the time of opening.
    ReproduceDialog(std::shared_ptr<const core::ModelBytes> model, QString modelPath, QWidget* parent = nullptr);
    ~ReproduceDialog() override;  // cancels and waits for the thread (every wait in it is bounded)

    bool busy() const { return busy_; }
    QString lastPage() const { return lastPage_; }
    void setOutputFolder(const QString& dir);
    void setQuick(bool quick);
    void selectFigure(const QString& nameOrAll);
    void start();
    void cancel();

Q_SIGNALS:
    void finished(bool ok, const QString& message);

protected:
    void reject() override;

private:
    void append(const QString& line);
    void finish(bool ok, const QString& message, const QString& page);
    void saveSettings() const;

    std::shared_ptr<const core::ModelBytes> model_;
    QString modelPath_;
    QComboBox* figure_;
    QCheckBox* quick_;
    QLineEdit* out_;
    QDoubleSpinBox* slowdown_;
    QPushButton* run_;
    QPushButton* cancel_;
    QPushButton* open_;
    QProgressBar* progress_;
    QPlainTextEdit* log_;
    QLabel* status_;
    std::thread thread_;
    std::atomic<bool> cancelFlag_{false};
    bool busy_ = false;
    QString lastPage_;
};

}  // namespace edgent::gui
