"Print pytest's junit XML as the one closing line CI reads: `N passed, N failed, N skipped`."
import sys, xml.etree.ElementTree as ET
from pathlib import Path

p = Path(sys.argv[1])
if not p.exists(): print("0 passed, 1 failed"); sys.exit(0)
root = ET.parse(p).getroot()
suites = [root] if root.tag == 'testsuite' else list(root)
tot = lambda k: sum(int(s.get(k, 0)) for s in suites)
failed = tot('failures') + tot('errors')
print(f"{tot('tests') - failed - tot('skipped')} passed, {failed} failed, {tot('skipped')} skipped")
