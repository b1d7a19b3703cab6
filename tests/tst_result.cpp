// core/util/Result.h: a value or one line of error, and what happens when it is misused.
#include "core/util/Result.h"

#include <QtTest>

#include <sys/wait.h>
#include <unistd.h>

using namespace edgent::core;

namespace {

Result<int> parse(bool ok) {
    if (!ok) return makeError("not a number");
    return 42;
}

}  // namespace

class TestResult : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void holdsAValueOrAnError() {
        auto good = parse(true);
        QVERIFY(good.ok());
        QCOMPARE(*good, 42);
        auto bad = parse(false);
        QVERIFY(!bad.ok());
        QCOMPARE(bad.error(), std::string("not a number"));
        Status s = makeError("no");
        QVERIFY(!s.ok());
        QVERIFY(Status::success().ok());
    }

    // Reading the value of an error stops the process with the error's text, instead of
    // reading an empty optional (undefined behaviour).
    void readingTheValueOfAnErrorStopsTheProcess() {
        int pipeFds[2];
        QCOMPARE(::pipe(pipeFds), 0);
        const pid_t child = ::fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            ::dup2(pipeFds[1], STDERR_FILENO);
            const Result<int> bad = parse(false);
            const int v = bad.value();
            ::_exit(v == 0 ? 3 : 4);  // never reached
        }
        ::close(pipeFds[1]);
        int status = 0;
        QCOMPARE(::waitpid(child, &status, 0), child);
        char buf[512] = {};
        const ssize_t n = ::read(pipeFds[0], buf, sizeof buf - 1);
        ::close(pipeFds[0]);
        QVERIFY(WIFSIGNALED(status));
        QCOMPARE(WTERMSIG(status), SIGABRT);
        QVERIFY(n > 0);
        QVERIFY2(QByteArray(buf).contains("not a number"), buf);
    }
};

QTEST_GUILESS_MAIN(TestResult)
#include "tst_result.moc"
