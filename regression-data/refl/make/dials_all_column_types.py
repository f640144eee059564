from dials.array_family import flex
t = flex.reflection_table()
t['i'] = flex.int([1,-2,3])
t['d'] = flex.double([1.5, -2.25, 3e100])
t['b'] = flex.bool([True, False, True])
for v in [2**32+1, 2**31+5]:
    try:
        t['z'] = flex.size_t([0, 7, v]); print('size_t ok', v); break
    except Exception as e: print('size_t fail', v, e)
t['v2'] = flex.vec2_double([(1,2),(3,4),(5,6)])
t['v3'] = flex.vec3_double([(1,2,3),(4,5,6),(7,8,9)])
t['m3'] = flex.mat3_double([(1,2,3,4,5,6,7,8,9)]*3)
t['hkl'] = flex.miller_index([(1,2,3),(-1,0,2),(0,0,1)])
t['i6'] = flex.int6([(1,2,3,4,5,6)]*3)
for name, mk in [('s', lambda: flex.std_string(['a','bb','ccc'])), ('v3i', lambda: flex.vec3_int([(1,2,3)]*3)), ('f', lambda: flex.float([1,2,3])), ('c', lambda: flex.complex_double([1j,2,3]))]:
    try:
        t[name] = mk(); print('added', name)
    except Exception as e: print('cannot add', name, type(e).__name__, e)
t.experiment_identifiers()[0] = 'abc'
t.experiment_identifiers()[5] = 'def'
t.as_file('dials_all_column_types.refl'); print('written')
