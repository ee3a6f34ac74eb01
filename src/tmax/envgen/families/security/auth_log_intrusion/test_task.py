from tmax_verify import Grader
g = Grader()
g.gate('failed_by_ip.txt exists', g.read('/app/report/failed_by_ip.txt') is not None)
{{ checks }}g.finish()
