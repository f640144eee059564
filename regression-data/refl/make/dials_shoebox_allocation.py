from dials.array_family import flex
from dials.model.data import Shoebox
t = flex.reflection_table()
sbs = flex.shoebox(3)
sbs[0] = Shoebox(0, (0, 2, 0, 1, 0, 1)); sbs[0].allocate()
sbs[0].data = flex.float(flex.grid(1,1,2), 0); sbs[0].data[0] = 1.5; sbs[0].data[1] = 2.5
sbs[1] = Shoebox(2, (5, 6, 5, 7, 3, 4))  # not allocated
sbs[2] = Shoebox(1, (1, 2, 1, 2, 1, 2)); sbs[2].allocate(); sbs[2].mask[0] = 5; sbs[2].background[0] = 0.25
print([s.is_allocated() for s in sbs], [s.flat for s in sbs] if hasattr(sbs[0], 'flat') else 'noflat')
t['shoebox'] = sbs
t.as_file('dials_shoebox_allocation.refl')
t2 = flex.reflection_table.from_file('dials_shoebox_allocation.refl')
print([ (s.panel, s.bbox, s.is_allocated()) for s in t2['shoebox']])
