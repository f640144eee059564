from dials.array_family import flex
t = flex.reflection_table()
n = 4
vals = [0.123456, -2.5, 1234.5678, 1e-7]
for name in ['inverse_scale_factor', 'inverse_scale_factor_variance', 'intensity.scale.value', 'intensity.scale.variance',
             'intensity.cor.value', 'intensity.cor.variance', 'delpsical.rad', 'phi', 'x_resid', 'y_resid', 'phi_resid',
             'background.dispersion', 'background.mse', 'correlation.ideal.profile', 'my_double', 'Ih_values',
             'intensity.sum.value', 'd', 'partiality', 'qe', 'xyzobs.mm.value.x']:
    t[name] = flex.double(vals)
t['my_int'] = flex.int([1, -2, 7, 3])
t['original_index'] = flex.size_t([1, 2, 7, 3])
t['my_sizet'] = flex.size_t([1, 2, 7, 3])
t['my_bool'] = flex.bool([True, False, True, True])
t['my_vec3'] = flex.vec3_double([(0.123456, 1, 2)] * 3 + [(1e-7, -3, 4)])
t['my_vec2'] = flex.vec2_double([(0.123456, 1)] * 4)
t['my_mat3'] = flex.mat3_double([(1, 2, 3, 4, 5, 6, 7, 8, 9)] * 4)
t['my_int6'] = flex.int6([(1, 2, 3, 4, 5, 6)] * 4)
t['my_miller'] = flex.miller_index([(1, 2, 3), (-1, -2, -3), (4, 5, 6), (0, 0, 1)])
t['xyzobs.px.value'] = flex.vec3_double([(0.125, 0.375, 2.5)] * 4)
t.as_file('dials_show_formats.refl')
