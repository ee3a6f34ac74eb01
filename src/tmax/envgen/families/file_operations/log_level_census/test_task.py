from tmax_verify import Grader
g = Grader()
g.gate("census.txt exists", g.read("/app/census.txt") is not None)
g.exact_text("census", "/app/census.txt", {{ expected | repr }})
g.finish()
