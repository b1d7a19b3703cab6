#pragma once
// A paper figure as data: stacked panels over one x axis, each with named series. Core
// builds it from its runs; the plotting library (widgets/FigurePlot.h) draws it. Qt-free.

#include <cmath>
#include <string>
#include <vector>

namespace edgent::core::repro {

enum class SeriesStyle { Line, Step, Points, Bars };  // bars of a panel are grouped side by side

struct Series {
    std::string name;
    std::vector<double> x, y;  // NaN y: a gap
    SeriesStyle style = SeriesStyle::Line;
    bool dashed = false;
    // Points marked apart, as the paper marks infeasible configurations (drawn as crosses).
    std::vector<double> markX, markY;
    std::string markName;  // the legend's word for the marks
};

struct Panel {
    std::string yLabel;
    std::vector<Series> series;
    double yMin = NAN, yMax = NAN;  // a fixed range when both are set
    bool integerTicks = false;      // exits and partitions
};

inline Series makeSeries(std::string name, std::vector<double> x, std::vector<double> y = {},
                         SeriesStyle style = SeriesStyle::Line, bool dashed = false) {
    Series s;
    s.name = std::move(name);
    s.x = std::move(x);
    s.y = std::move(y);
    s.style = style;
    s.dashed = dashed;
    return s;
}

inline Panel makePanel(std::string yLabel, std::vector<Series> series = {}, double yMin = NAN, double yMax = NAN,
                       bool integerTicks = false) {
    Panel p;
    p.yLabel = std::move(yLabel);
    p.series = std::move(series);
    p.yMin = yMin;
    p.yMax = yMax;
    p.integerTicks = integerTicks;
    return p;
}

struct Figure {
    std::string title;
    std::string xLabel;
    bool logX = false;
    std::vector<Panel> panels;
    std::string footnote;  // the scaling and the device, under the plot
};

}  // namespace edgent::core::repro
