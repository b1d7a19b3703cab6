#pragma once
// How the workbench's tables size their columns: every column fits its contents, and one text
// column takes the slack, so numbers stay beside their labels instead of drifting to the
// window's far edge.

#include <QHeaderView>
#include <QTableView>

namespace edgent::widgets {

inline void fitColumns(QTableView* table, int slackColumn) {
    QHeaderView* header = table->horizontalHeader();
    header->setStretchLastSection(false);
    header->setSectionResizeMode(QHeaderView::Interactive);
    table->resizeColumnsToContents();
    if (slackColumn >= 0 && slackColumn < header->count()) header->setSectionResizeMode(slackColumn, QHeaderView::Stretch);
}

}  // namespace edgent::widgets
