import mpmath as mp
mp.mp.prec = 200
L = mp.log(2)/2 * (1 + mp.mpf(2)**-20)
def P(r):
    if abs(r) < mp.mpf(10)**-30: return mp.mpf(1)/2 + r/6
    return (mp.exp(r) - 1 - r)/r**2
for deg in (9,10,11):
    c, err = mp.chebyfit(P, [-L, L], deg+1, error=True)
    c = c[::-1]  # ascending
    cd = [float(v) for v in c]
    # max error of r^2*P_d(r) vs exact, relative to exp(r)
    m = 0
    for i in range(2001):
        r = -L + 2*L*i/2000
        pv = sum(mp.mpf(cd[j])*r**j for j in range(len(cd)))
        e = abs(r**2*(pv - P(r)))/mp.exp(r)
        m = max(m, e)
    print(deg, mp.nstr(m/ mp.mpf(2)**-53, 5), "ulp-ish(2^-53 rel)")
    if deg == 10:
        for v in cd: print(repr(v), v.hex())
