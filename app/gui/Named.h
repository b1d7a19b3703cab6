#pragma once
// Names a widget for tests and settings (QObject::objectName) and returns it, so it can be
// made and named in one expression.

#include <QString>

namespace edgent::gui {

template <typename W>
W* named(W* widget, const char* name) {
    widget->setObjectName(QString::fromLatin1(name));
    return widget;
}

}  // namespace edgent::gui
