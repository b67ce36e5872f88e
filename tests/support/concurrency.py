"""Running the same work in several threads at once, each as its own app transaction."""
import threading

from app.extensions import db


def run_together(app, count: int, work) -> list:
    """Run work(index) in `count` threads, each in its own app context (own session and connection),
    released at the same moment; each result is what work returned, or the error it raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index):
        with app.app_context():
            barrier.wait()
            try:
                results[index] = work(index)
                db.session.commit()
            except Exception as error:  # reported below, with the thread that raised it
                db.session.rollback()
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
