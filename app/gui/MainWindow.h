#pragma once
// The workbench window: a composition of panels around one Session. Tabs for the experiment
// (controls beside the live plots), the model, profiling, the workers and the run browser;
// a log of every error and event, so nothing is lost in a terminal; settings that persist.

#include <QMainWindow>

class QLabel;
class QPlainTextEdit;
class QSplitter;
class QTabWidget;

namespace edgent::widgets {
class ModelPanel;
class ProfilePanel;
class RunsPanel;
}  // namespace edgent::widgets

namespace edgent::gui {

class Session;
class WorkersPanel;
class ExperimentPanel;
class LivePlots;

struct WindowOptions {
    QString database;             // empty: the settings' or the default
    QString model;                // empty: the settings' or the default model
    bool startWorkers = true;     // start local workers at once
    bool autoProfile = true;      // profile the model when the database has no profile of it
    double deviceSlowdown = 0.0;  // > 0: overrides the saved setting for local workers
};

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(const WindowOptions& options, QWidget* parent = nullptr);
    ~MainWindow() override;

    Session& session() { return *session_; }
    ExperimentPanel* experiment() const { return experiment_; }
    LivePlots* livePlots() const { return plots_; }
    WorkersPanel* workers() const { return workersPanel_; }
    widgets::ModelPanel* modelPanel() const { return modelPanel_; }
    widgets::ProfilePanel* profilePanel() const { return profilePanel_; }
    widgets::RunsPanel* runsPanel() const { return runsPanel_; }
    QTabWidget* tabs() const { return tabs_; }
    // Every message shown to the user in this session (errors and notes), oldest first.
    QStringList messages() const { return messages_; }

    static QString defaultDatabasePath();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void restoreSettings(const WindowOptions& options);
    void saveSettings();
    void showError(const QString& message);
    void note(const QString& message);
    void refreshProfiles();
    void maybeAutoProfile();

    Session* session_;
    QTabWidget* tabs_;
    QSplitter* experimentSplit_;
    ExperimentPanel* experiment_;
    LivePlots* plots_;
    WorkersPanel* workersPanel_;
    widgets::ModelPanel* modelPanel_;
    widgets::ProfilePanel* profilePanel_;
    widgets::RunsPanel* runsPanel_;
    QLabel* banner_;
    QPlainTextEdit* log_;
    QStringList messages_;
    bool autoProfile_ = true;
    bool autoProfiled_ = false;
};

}  // namespace edgent::gui
